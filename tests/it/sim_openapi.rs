//! The OpenAPI validator itself: it must reject what Apple's schemas reject (unknown enum values,
//! wrong types, missing required fields, undeclared properties), and the trimmed subset must be
//! self-contained.

use crate::support::openapi::{Mode, Spec};
use serde_json::{Value, json};

fn good_upload() -> Value {
    json!({
        "data": {
            "type": "buildUploads",
            "id": "u1",
            "attributes": {
                "cfBundleShortVersionString": "1.0",
                "cfBundleVersion": "7",
                "createdDate": "2026-01-02T03:04:05.678+00:00",
                "platform": "IOS",
                "state": { "errors": [], "warnings": [], "infos": [], "state": "AWAITING_UPLOAD" }
            },
            "relationships": { "build": {} }
        },
        "links": { "self": "http://127.0.0.1/v1/buildUploads/u1" }
    })
}

fn errors_for(doc: &Value, mode: Mode) -> Vec<String> {
    Spec::load()
        .validate_named("BuildUploadResponse", doc, mode)
        .err()
        .unwrap_or_default()
}

#[test]
fn a_conforming_document_passes() {
    assert_eq!(errors_for(&good_upload(), Mode::Response), Vec::<String>::new());
}

#[test]
fn unknown_enum_value_fails() {
    let mut doc = good_upload();
    doc["data"]["attributes"]["state"]["state"] = json!("UPLOADING");
    let errs = errors_for(&doc, Mode::Response);
    assert!(
        errs.iter()
            .any(|e| e.contains("state.state") && e.contains("UPLOADING")),
        "{errs:?}"
    );
    let mut doc = good_upload();
    doc["data"]["attributes"]["platform"] = json!("ANDROID");
    assert!(!errors_for(&doc, Mode::Response).is_empty());
}

#[test]
fn wrong_type_fails() {
    let mut doc = good_upload();
    doc["data"]["attributes"]["cfBundleVersion"] = json!(7);
    let errs = errors_for(&doc, Mode::Response);
    assert!(
        errs.iter()
            .any(|e| e.contains("cfBundleVersion") && e.contains("expected a string")),
        "{errs:?}"
    );
}

#[test]
fn missing_required_field_fails() {
    let mut doc = good_upload();
    doc["data"].as_object_mut().unwrap().remove("id");
    let errs = errors_for(&doc, Mode::Response);
    assert!(
        errs.iter().any(|e| e.contains("missing required property 'id'")),
        "{errs:?}"
    );
    let mut doc = good_upload();
    doc.as_object_mut().unwrap().remove("links");
    assert!(!errors_for(&doc, Mode::Response).is_empty());
}

#[test]
fn undeclared_property_fails() {
    let mut doc = good_upload();
    doc["data"]["attributes"]["uploadDate"] = json!("2026-01-02T03:04:05Z");
    let errs = errors_for(&doc, Mode::Response);
    assert!(
        errs.iter()
            .any(|e| e.contains("uploadDate") && e.contains("not declared")),
        "{errs:?}"
    );
}

#[test]
fn bad_format_fails() {
    let mut doc = good_upload();
    doc["data"]["attributes"]["createdDate"] = json!("yesterday");
    assert!(!errors_for(&doc, Mode::Response).is_empty());
    let mut doc = good_upload();
    doc["data"]["attributes"]["createdDate"] = json!("2026-01-02T03:04:05Z");
    assert!(errors_for(&doc, Mode::Response).is_empty());
}

#[test]
fn null_is_refused_where_the_spec_does_not_say_nullable() {
    // Apple's live API sends `uploadedDate: null` and `build.data: null`, but its description
    // declares neither nullable, so a validating proxy refuses them; the simulator omits them.
    for pointer in ["/data/attributes/uploadedDate", "/data/relationships/build"] {
        let mut doc = good_upload();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        doc.pointer_mut(parent).unwrap()[key] = Value::Null;
        assert!(!errors_for(&doc, Mode::Response).is_empty(), "{pointer}: null refused");
    }
    let mut doc = good_upload();
    doc["data"]["id"] = Value::Null;
    assert!(
        !errors_for(&doc, Mode::Response).is_empty(),
        "a required property is never null"
    );
}

#[test]
fn minimum_and_maximum_are_enforced() {
    let spec = Spec::load();
    let body = |size: Value| {
        json!({ "data": {
            "type": "buildUploadFiles",
            "attributes": { "assetType": "ASSET", "fileName": "a.ipa", "fileSize": size, "uti": "com.apple.ipa" },
            "relationships": { "buildUpload": { "data": { "type": "buildUploads", "id": "u" } } }
        } })
    };
    assert!(
        spec.validate_named("BuildUploadFileCreateRequest", &body(json!(10)), Mode::Request)
            .is_ok()
    );
    assert!(
        spec.validate_named("BuildUploadFileCreateRequest", &body(json!(0)), Mode::Request)
            .is_err()
    );
    assert!(
        spec.validate_named(
            "BuildUploadFileCreateRequest",
            &body(json!(9007199254740992u64)),
            Mode::Request
        )
        .is_err()
    );
    assert!(
        spec.validate_named("BuildUploadFileCreateRequest", &body(json!(1.5)), Mode::Request)
            .is_err()
    );
}

#[test]
fn one_of_with_and_without_discriminator() {
    let spec = Spec::load();
    // ResponseError.source is a oneOf (pointer | parameter) without discriminator.
    let err =
        |source: Value| json!({ "errors": [{ "status": "404", "code": "NOT_FOUND", "title": "t", "source": source }] });
    assert!(
        spec.validate_named("ErrorResponse", &err(json!({"pointer": "/data"})), Mode::Response)
            .is_ok()
    );
    assert!(
        spec.validate_named("ErrorResponse", &err(json!({"parameter": "limit"})), Mode::Response)
            .is_ok()
    );
    assert!(
        spec.validate_named("ErrorResponse", &err(json!({"where": "x"})), Mode::Response)
            .is_err()
    );
    // `included` uses a discriminator on `type`: a type outside the mapping fails.
    let mut doc = good_upload();
    doc["included"] = json!([{ "type": "apps", "id": "1" }]);
    assert!(
        errors_for(&doc, Mode::Response)
            .iter()
            .any(|e| e.contains("discriminator"))
    );
    doc["included"] = json!([{ "type": "builds", "id": "1", "attributes": { "processingState": "DONE" } }]);
    assert!(!errors_for(&doc, Mode::Response).is_empty());
}

#[test]
fn error_status_must_be_a_string_and_code_required() {
    let spec = Spec::load();
    let doc = json!({ "errors": [{ "status": 404, "code": "NOT_FOUND", "title": "t" }] });
    assert!(spec.validate_named("ErrorResponse", &doc, Mode::Response).is_err());
    let doc = json!({ "errors": [{ "status": "404", "title": "t" }] });
    assert!(spec.validate_named("ErrorResponse", &doc, Mode::Response).is_err());
}

#[test]
fn operations_and_statuses_are_looked_up_from_paths() {
    let spec = Spec::load();
    assert!(spec.operation("GET", "/v1/buildUploads/abc?include=build").is_some());
    assert!(spec.operation("PUT", "/v1/buildUploads/abc").is_none());
    assert!(
        spec.response_schema("DELETE", "/v1/buildUploads/abc", 204)
            .unwrap()
            .is_none()
    );
    assert!(
        spec.response_schema("POST", "/v1/buildUploads", 404).is_err(),
        "404 is not documented for POST"
    );
    assert!(spec.request_schema("PATCH", "/v1/builds/x").is_some());
}

#[test]
fn the_subset_is_self_contained() {
    let spec = Spec::load();
    let mut refs = Vec::new();
    collect_refs(spec.doc(), &mut refs);
    assert!(refs.len() > 50);
    for r in &refs {
        assert!(spec.resolve(r).is_some(), "unresolvable {r}");
    }
    for name in [
        "BuildUpload",
        "BuildUploadFile",
        "Build",
        "BuildBetaDetail",
        "PrereleaseVersion",
        "App",
        "ErrorResponse",
        "PagedDocumentLinks",
        "PagingInformation",
    ] {
        assert!(
            spec.resolve(&format!("#/components/schemas/{name}")).is_some(),
            "{name}"
        );
    }
    assert_eq!(spec.doc()["info"]["version"], "4.4.1");
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if k == "$ref" {
                    if let Some(s) = v.as_str() {
                        out.push(s.to_owned());
                    }
                } else {
                    collect_refs(v, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}
