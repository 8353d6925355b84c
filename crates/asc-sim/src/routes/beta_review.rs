//! Beta App Review: the app's review information (`betaAppReviewDetails`), its beta app
//! localizations (`betaAppLocalizations`), and build submissions (`betaAppReviewSubmissions`).

use serde_json::{Value, json};

use super::beta_groups::check_build_ready;
use super::same_id;
use super::{Reply, Req, attributes, body_data, invalid_attribute, page, relationship_id, unknown_related};
use crate::beta::{AppLocalization, ReviewDetail, ReviewSubmission};
use crate::json::{self, ApiError};
use crate::json_beta;
use crate::keys;

const REVIEW_STATES: &[&str] = &["WAITING_FOR_REVIEW", "IN_REVIEW", "REJECTED", "APPROVED"];

/// 400 for a list whose required filter is absent.
fn missing_param(name: &str) -> ApiError {
    ApiError::new(
        400,
        "PARAMETER_ERROR.REQUIRED",
        "A required parameter is missing",
        format!("The parameter '{name}' is required for this request"),
    )
    .parameter(name)
}

fn detail_of(store: &crate::state::Store, app_id: &str) -> ReviewDetail {
    store
        .beta
        .review_details
        .get(app_id)
        .cloned()
        .unwrap_or_else(|| ReviewDetail {
            app_id: app_id.to_owned(),
            ..ReviewDetail::default()
        })
}

pub(super) fn detail_for_app(req: &Req<'_>, app_id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let store = req.shared.store();
    if store.app(app_id).is_none() {
        return Err(ApiError::not_found("apps", app_id));
    }
    let d = detail_of(&store, app_id);
    Ok(Reply::Json(
        200,
        json!({ "data": json_beta::review_detail(req.base(), &d), "links": { "self": req.self_link() } }),
    ))
}

pub(super) fn list_details(req: &Req<'_>) -> Result<Reply, ApiError> {
    req.query.allow_only(&["filter[app]", "limit", "cursor", "include"])?;
    let include = req.query.include(&["app"])?;
    let Some(apps) = req.query.list("filter[app]") else {
        return Err(missing_param("filter[app]"));
    };
    let store = req.shared.store();
    let mut items = Vec::new();
    let mut included = Vec::new();
    for a in store.apps.iter().filter(|a| apps.contains(&a.id)) {
        items.push(json_beta::review_detail(req.base(), &detail_of(&store, &a.id)));
        if include.iter().any(|i| i == "app") {
            included.push(json::app(req.base(), a));
        }
    }
    page(req, items, included)
}

pub(super) fn get_detail(req: &Req<'_>, id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&["include"])?;
    req.query.include(&["app"])?;
    let store = req.shared.store();
    if store.app(id).is_none() {
        return Err(ApiError::not_found("betaAppReviewDetails", id));
    }
    let d = detail_of(&store, id);
    Ok(Reply::Json(
        200,
        json!({ "data": json_beta::review_detail(req.base(), &d), "links": { "self": req.self_link() } }),
    ))
}

/// `PATCH /v1/betaAppReviewDetails/{id}`: fills in contact fields. The demo account password is
/// accepted and dropped (a simulator has no business keeping secrets).
pub(super) fn update_detail(req: &Req<'_>, id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let data = body_data(req, "betaAppReviewDetails")?;
    same_id(&data, id)?;
    let attrs = attributes(
        &data,
        "betaAppReviewDetails",
        &[
            "contactFirstName",
            "contactLastName",
            "contactPhone",
            "contactEmail",
            "demoAccountName",
            "demoAccountPassword",
            "demoAccountRequired",
            "notes",
        ],
    )?;
    let text = |name: &str| -> Result<Option<Option<String>>, ApiError> {
        match attrs.get(name) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
            Some(_) => Err(invalid_attribute(name, format!("'{name}' must be a string"))),
        }
    };
    let first = text("contactFirstName")?;
    let last = text("contactLastName")?;
    let phone = text("contactPhone")?;
    let email = text("contactEmail")?;
    let notes = text("notes")?;
    text("demoAccountName")?;
    text("demoAccountPassword")?;
    let demo = match attrs.get("demoAccountRequired") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            return Err(invalid_attribute(
                "demoAccountRequired",
                "'demoAccountRequired' must be a boolean",
            ));
        }
    };
    let mut store = req.shared.store();
    if store.app(id).is_none() {
        return Err(ApiError::not_found("betaAppReviewDetails", id));
    }
    let mut d = detail_of(&store, id);
    for (value, slot) in [
        (first, &mut d.contact_first_name),
        (last, &mut d.contact_last_name),
        (phone, &mut d.contact_phone),
        (email, &mut d.contact_email),
        (notes, &mut d.notes),
    ] {
        if let Some(v) = value {
            *slot = v;
        }
    }
    if let Some(b) = demo {
        d.demo_account_required = b;
    }
    let doc = json!({ "data": json_beta::review_detail(req.base(), &d), "links": { "self": req.self_link() } });
    store.beta.review_details.insert(id.to_owned(), d);
    req.shared.persist(&store);
    Ok(Reply::Json(200, doc))
}

fn app_localizations<'s>(
    store: &'s crate::state::Store,
    apps: Option<&[String]>,
    locales: Option<&[String]>,
) -> Vec<&'s AppLocalization> {
    let mut list: Vec<&AppLocalization> = store
        .beta
        .app_localizations
        .values()
        .filter(|l| apps.is_none_or(|a| a.contains(&l.app_id)))
        .filter(|l| locales.is_none_or(|x| x.contains(&l.locale)))
        .collect();
    list.sort_by_key(|l| l.seq);
    list
}

pub(super) fn localizations_for_app(req: &Req<'_>, app_id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&["limit", "cursor"])?;
    let store = req.shared.store();
    if store.app(app_id).is_none() {
        return Err(ApiError::not_found("apps", app_id));
    }
    let apps = [app_id.to_owned()];
    let items = app_localizations(&store, Some(&apps), None)
        .iter()
        .map(|l| json_beta::app_localization(req.base(), l))
        .collect();
    page(req, items, Vec::new())
}

pub(super) fn list_localizations(req: &Req<'_>) -> Result<Reply, ApiError> {
    req.query
        .allow_only(&["filter[locale]", "filter[app]", "limit", "cursor", "include"])?;
    let include = req.query.include(&["app"])?;
    let apps = req.query.list("filter[app]");
    let locales = req.query.list("filter[locale]");
    let store = req.shared.store();
    let list = app_localizations(&store, apps.as_deref(), locales.as_deref());
    let mut included = Vec::new();
    if include.iter().any(|i| i == "app") {
        for l in &list {
            if let Some(a) = store.app(&l.app_id) {
                json::push_unique(&mut included, vec![json::app(req.base(), a)]);
            }
        }
    }
    let items = list
        .iter()
        .map(|l| json_beta::app_localization(req.base(), l))
        .collect();
    page(req, items, included)
}

/// `POST /v1/betaAppReviewSubmissions`. Refusals, in order: unknown build (409
/// ENTITY_ERROR.RELATIONSHIP.INVALID); build expired, not VALID or without export compliance
/// (422 STATE_ERROR.ENTITY_STATE_INVALID); already submitted, or another build of the same
/// version in review (409 STATE_ERROR.ENTITY_STATE_INVALID); review information or What to Test
/// missing (422 ENTITY_UNPROCESSABLE, one error per missing item). A build needs no external
/// group to be submitted (fastlane submits before adding groups).
pub(super) fn submit(req: &Req<'_>) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let data = body_data(req, "betaAppReviewSubmissions")?;
    attributes(&data, "betaAppReviewSubmissions", &[])?;
    let build_id = relationship_id(&data, "build", "builds")?;
    let mut store = req.shared.store();
    let Some(b) = store.builds.get(&build_id) else {
        return Err(unknown_related("build", "builds", &build_id));
    };
    check_build_ready(b, true)?;
    let conflict = |detail: String| {
        ApiError::new(
            409,
            "STATE_ERROR.ENTITY_STATE_INVALID",
            "The request cannot be fulfilled because of the state of another resource.",
            detail,
        )
    };
    if let Some(s) = store.submission_of(&build_id) {
        return Err(conflict(format!(
            "Build {} has already been submitted for beta review (betaReviewState {}).",
            b.version, s.state
        ))
        .meta(json!({ "betaAppReviewSubmission": s.id })));
    }
    let in_review = store.beta.submissions.values().any(|s| {
        matches!(s.state.as_str(), "WAITING_FOR_REVIEW" | "IN_REVIEW")
            && store
                .builds
                .get(&s.build_id)
                .is_some_and(|o| o.pre_release_version_id == b.pre_release_version_id)
    });
    if in_review {
        return Err(conflict("Another build is in review.".to_owned()));
    }
    let mut missing: Vec<(String, String)> = store.missing_review_info(&b.app_id);
    let has_notes = store
        .localizations_of(&build_id)
        .iter()
        .any(|l| l.whats_new.as_deref().is_some_and(|w| !w.trim().is_empty()));
    if !has_notes {
        missing.push((
            "What to Test is missing.".to_owned(),
            "What to Test (betaBuildLocalizations.whatsNew) is required to submit a build for external testing."
                .to_owned(),
        ));
    }
    if let Some(((title, detail), rest)) = missing.split_first() {
        let names: Vec<&str> = missing.iter().map(|(t, _)| t.as_str()).collect();
        let mut err =
            ApiError::new(422, "ENTITY_UNPROCESSABLE", title.clone(), detail.clone()).meta(json!({ "missing": names }));
        for (t, d) in rest {
            err = err.and(ApiError::new(422, "ENTITY_UNPROCESSABLE", t.clone(), d.clone()));
        }
        return Err(err);
    }
    let seq = store.next_seq();
    let s = ReviewSubmission {
        id: keys::uuid(),
        seq,
        build_id,
        submitted: req.shared.now_millis(),
        state: "WAITING_FOR_REVIEW".into(),
    };
    let doc = json!({
        "data": json_beta::submission(req.base(), &s),
        "links": { "self": format!("{}/v1/betaAppReviewSubmissions/{}", req.base(), s.id) },
    });
    store.beta.submissions.insert(s.id.clone(), s);
    req.shared.persist(&store);
    Ok(Reply::Json(201, doc))
}

pub(super) fn list_submissions(req: &Req<'_>) -> Result<Reply, ApiError> {
    req.query
        .allow_only(&["filter[betaReviewState]", "filter[build]", "limit", "cursor", "include"])?;
    let include = req.query.include(&["build"])?;
    let Some(builds) = req.query.list("filter[build]") else {
        return Err(missing_param("filter[build]"));
    };
    let states = req.query.enum_list("filter[betaReviewState]", REVIEW_STATES)?;
    let store = req.shared.store();
    let mut list: Vec<&ReviewSubmission> = store
        .beta
        .submissions
        .values()
        .filter(|s| builds.contains(&s.build_id))
        .filter(|s| states.as_ref().is_none_or(|l| l.contains(&s.state)))
        .collect();
    list.sort_by_key(|s| s.seq);
    let mut included = Vec::new();
    if include.iter().any(|i| i == "build") {
        for s in &list {
            if let Some(b) = store.builds.get(&s.build_id) {
                json::push_unique(&mut included, vec![json::build(req.base(), b)]);
            }
        }
    }
    let items = list.iter().map(|s| json_beta::submission(req.base(), s)).collect();
    page(req, items, included)
}

pub(super) fn get_submission(req: &Req<'_>, id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&["include"])?;
    req.query.include(&["build"])?;
    let store = req.shared.store();
    let s = store
        .beta
        .submissions
        .get(id)
        .ok_or_else(|| ApiError::not_found("betaAppReviewSubmissions", id))?;
    Ok(Reply::Json(
        200,
        json!({ "data": json_beta::submission(req.base(), s), "links": { "self": req.self_link() } }),
    ))
}

/// `GET /v1/builds/{id}/betaAppReviewSubmission`: 404 when the build has none.
pub(super) fn submission_of_build(req: &Req<'_>, build_id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let store = req.shared.store();
    if !store.builds.contains_key(build_id) {
        return Err(ApiError::not_found("builds", build_id));
    }
    let s = store.submission_of(build_id).ok_or_else(|| {
        ApiError::new(
            404,
            "NOT_FOUND",
            "The specified resource does not exist",
            format!("There is no resource of type 'betaAppReviewSubmissions' for the build with id '{build_id}'"),
        )
    })?;
    Ok(Reply::Json(
        200,
        json!({ "data": json_beta::submission(req.base(), s), "links": { "self": req.self_link() } }),
    ))
}
