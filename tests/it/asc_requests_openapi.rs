//! Every request body the client sends, checked against Apple's OpenAPI description (the trimmed
//! subset in tests/fixtures): the same schemas the simulator's answers are checked against.

use crate::support::openapi::{Mode, Spec};
use asc_publish::asc::wire::request;

fn conforms(method: &str, path: &str, body: serde_json::Value) {
    let spec = Spec::load();
    let schema = spec
        .request_schema(method, path)
        .unwrap_or_else(|| panic!("{method} {path} has no request schema in the spec"));
    if let Err(errors) = spec.validate(&schema, &body, Mode::Request) {
        panic!(
            "{method} {path} body does not conform:\n{}\n{body:#}",
            errors.join("\n")
        );
    }
}

#[test]
fn create_build_upload_conforms() {
    conforms(
        "POST",
        "/v1/buildUploads",
        request::create_build_upload("6450000001", "1.0.0", "42", "IOS"),
    );
}

#[test]
fn reserve_build_upload_file_conforms() {
    conforms(
        "POST",
        "/v1/buildUploadFiles",
        request::create_build_upload_file("b5a1", "App.ipa", 123_456, "com.apple.ipa"),
    );
}

#[test]
fn commit_with_checksum_conforms() {
    conforms(
        "PATCH",
        "/v1/buildUploadFiles/{id}",
        request::commit_build_upload_file("f1", "0ED22740C0E7B5C3E4D2F6A1B9C8D7E6"),
    );
}

#[test]
fn export_compliance_answer_conforms() {
    conforms("PATCH", "/v1/builds/{id}", request::set_encryption("b1", false));
}

#[test]
fn a_wrong_body_is_caught() {
    // The validator is strict enough to catch a typo in an enum value or a missing attribute.
    let spec = Spec::load();
    let schema = spec.request_schema("POST", "/v1/buildUploads").unwrap();
    let mut body = request::create_build_upload("1", "1.0", "1", "IOS");
    body["data"]["attributes"]["platform"] = "IPHONE".into();
    assert!(spec.validate(&schema, &body, Mode::Request).is_err());
    let mut body = request::create_build_upload("1", "1.0", "1", "IOS");
    body["data"]["attributes"]
        .as_object_mut()
        .unwrap()
        .remove("cfBundleVersion");
    assert!(spec.validate(&schema, &body, Mode::Request).is_err());
}
