//! Hand-written routing for the API paths, plus what every handler shares: query parsing,
//! JSON:API body checks, and cursor pagination.

mod app_store;
mod app_store_localizations;
mod apps;
mod beta_builds;
mod beta_groups;
mod beta_review;
mod build_upload_files;
mod build_uploads;
mod builds;
mod review_submissions;

use std::sync::Arc;

use bytes::Bytes;
use hyper::{Method, Uri};
use serde_json::{Map, Value, json};

use super::json::{self, ApiError};
use super::server::Shared;

/// What a handler answers.
pub(crate) enum Reply {
    Json(u16, Value),
    Empty(u16),
    /// Close the connection without answering (the dropped commit response).
    Drop,
}

/// A parsed request, as handlers see it.
pub(crate) struct Req<'a> {
    pub shared: &'a Arc<Shared>,
    pub method: &'a Method,
    /// The request path and query, for `links.self`.
    pub path_and_query: String,
    pub query: Query,
    pub body: Bytes,
}

impl Req<'_> {
    pub fn base(&self) -> &str {
        &self.shared.base_url
    }

    pub fn self_link(&self) -> String {
        format!("{}{}", self.base(), self.path_and_query)
    }
}

pub(crate) async fn dispatch(shared: &Arc<Shared>, method: &Method, uri: &Uri, body: Bytes) -> Result<Reply, ApiError> {
    let path = uri.path().trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').skip(2).collect();
    let req = Req {
        shared,
        method,
        path_and_query: uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default(),
        query: Query::parse(uri.query().unwrap_or("")),
        body,
    };
    match segments.as_slice() {
        ["apps"] => return only(&req, &[Method::GET]).and_then(|_| apps::list(&req)),
        ["apps", id] => return only(&req, &[Method::GET]).and_then(|_| apps::get(&req, id)),
        ["apps", id, "buildUploads"] => {
            return only(&req, &[Method::GET]).and_then(|_| build_uploads::list_for_app(&req, id));
        }
        ["buildUploads"] => return only(&req, &[Method::POST]).and_then(|_| build_uploads::create(&req)),
        ["buildUploads", id] => match *method {
            Method::GET => return build_uploads::get(&req, id),
            Method::DELETE => return build_uploads::delete(&req, id).await,
            _ => {}
        },
        ["buildUploads", id, "buildUploadFiles"] => {
            return only(&req, &[Method::GET]).and_then(|_| build_upload_files::list_for_upload(&req, id));
        }
        ["buildUploadFiles"] => {
            return only(&req, &[Method::POST]).and_then(|_| build_upload_files::create(&req));
        }
        ["buildUploadFiles", id] => match *method {
            Method::GET => return build_upload_files::get(&req, id),
            Method::PATCH => return build_upload_files::commit(&req, id).await,
            _ => {}
        },
        ["builds"] => return only(&req, &[Method::GET]).and_then(|_| builds::list(&req)),
        ["builds", id] => match *method {
            Method::GET => return builds::get(&req, id),
            Method::PATCH => return builds::update(&req, id),
            _ => {}
        },
        ["builds", id, "buildBetaDetail"] => {
            return only(&req, &[Method::GET]).and_then(|_| builds::beta_detail(&req, id));
        }
        ["preReleaseVersions"] => {
            return only(&req, &[Method::GET]).and_then(|_| builds::pre_release_versions(&req));
        }
        _ => return testflight(&req, method, &segments),
    }
    Err(ApiError::method_not_allowed(method.as_str()))
}

/// The TestFlight paths.
fn testflight(req: &Req<'_>, method: &Method, segments: &[&str]) -> Result<Reply, ApiError> {
    let get = |f: &dyn Fn() -> Result<Reply, ApiError>| only(req, &[Method::GET]).and_then(|_| f());
    let link = |f: &dyn Fn(bool) -> Result<Reply, ApiError>| match *method {
        Method::POST => f(true),
        Method::DELETE => f(false),
        _ => Err(ApiError::method_not_allowed(method.as_str())),
    };
    match segments {
        ["betaGroups"] => get(&|| beta_groups::list(req)),
        ["betaGroups", id] => get(&|| beta_groups::get(req, id)),
        ["apps", id, "betaGroups"] => get(&|| beta_groups::list_for_app(req, id)),
        ["betaGroups", id, "builds"] => get(&|| beta_groups::builds_of_group(req, id, false)),
        ["betaGroups", id, "relationships", "builds"] => match *method {
            Method::GET => beta_groups::builds_of_group(req, id, true),
            _ => link(&|adding| beta_groups::link_builds(req, id, adding)),
        },
        ["builds", id, "relationships", "betaGroups"] => link(&|adding| beta_groups::link_groups(req, id, adding)),
        ["betaBuildLocalizations"] => match *method {
            Method::GET => beta_builds::list_localizations(req),
            Method::POST => beta_builds::create_localization(req),
            _ => Err(ApiError::method_not_allowed(method.as_str())),
        },
        ["betaBuildLocalizations", id] => match *method {
            Method::GET => beta_builds::get_localization(req, id),
            Method::PATCH => beta_builds::update_localization(req, id),
            Method::DELETE => beta_builds::delete_localization(req, id),
            _ => Err(ApiError::method_not_allowed(method.as_str())),
        },
        ["builds", id, "betaBuildLocalizations"] => get(&|| beta_builds::localizations_of_build(req, id)),
        ["buildBetaNotifications"] => only(req, &[Method::POST]).and_then(|_| beta_builds::notify(req)),
        ["buildBetaDetails"] => get(&|| beta_builds::list_beta_details(req)),
        ["buildBetaDetails", id] => match *method {
            Method::GET => beta_builds::get_beta_detail(req, id),
            Method::PATCH => beta_builds::update_beta_detail(req, id),
            _ => Err(ApiError::method_not_allowed(method.as_str())),
        },
        ["betaTesters"] => get(&|| beta_builds::list_testers(req)),
        ["builds", id, "individualTesters"] => get(&|| beta_builds::testers_of_build(req, id, false)),
        ["builds", id, "relationships", "individualTesters"] => match *method {
            Method::GET => beta_builds::testers_of_build(req, id, true),
            _ => link(&|adding| beta_builds::link_testers(req, id, adding)),
        },
        ["apps", id, "betaAppReviewDetail"] => get(&|| beta_review::detail_for_app(req, id)),
        ["betaAppReviewDetails"] => get(&|| beta_review::list_details(req)),
        ["betaAppReviewDetails", id] => match *method {
            Method::GET => beta_review::get_detail(req, id),
            Method::PATCH => beta_review::update_detail(req, id),
            _ => Err(ApiError::method_not_allowed(method.as_str())),
        },
        ["apps", id, "betaAppLocalizations"] => get(&|| beta_review::localizations_for_app(req, id)),
        ["betaAppLocalizations"] => get(&|| beta_review::list_localizations(req)),
        ["betaAppReviewSubmissions"] => match *method {
            Method::GET => beta_review::list_submissions(req),
            Method::POST => beta_review::submit(req),
            _ => Err(ApiError::method_not_allowed(method.as_str())),
        },
        ["betaAppReviewSubmissions", id] => get(&|| beta_review::get_submission(req, id)),
        ["builds", id, "betaAppReviewSubmission"] => get(&|| beta_review::submission_of_build(req, id)),
        _ => app_store_routes(req, method, segments),
    }
}

/// The App Store release paths.
fn app_store_routes(req: &Req<'_>, method: &Method, segments: &[&str]) -> Result<Reply, ApiError> {
    let get = |f: &dyn Fn() -> Result<Reply, ApiError>| only(req, &[Method::GET]).and_then(|_| f());
    let not_allowed = || Err(ApiError::method_not_allowed(method.as_str()));
    match segments {
        ["apps", id, "appStoreVersions"] => get(&|| app_store::versions_of_app(req, id)),
        ["appStoreVersions"] => only(req, &[Method::POST]).and_then(|_| app_store::create_version(req)),
        ["appStoreVersions", id] => match *method {
            Method::GET => app_store::get_version(req, id),
            Method::PATCH => app_store::update_version(req, id),
            _ => not_allowed(),
        },
        ["appStoreVersions", id, "relationships", "build"] => {
            only(req, &[Method::PATCH]).and_then(|_| app_store::attach_build(req, id))
        }
        ["appStoreVersions", id, "appStoreVersionLocalizations"] => {
            get(&|| app_store_localizations::localizations_of_version(req, id))
        }
        ["appStoreVersions", id, "appStoreReviewDetail"] => get(&|| app_store::review_detail_of_version(req, id)),
        ["appStoreVersions", id, "appStoreVersionPhasedRelease"] => {
            get(&|| app_store::phased_release_of_version(req, id))
        }
        ["appStoreVersionLocalizations"] => {
            only(req, &[Method::POST]).and_then(|_| app_store_localizations::create_localization(req))
        }
        ["appStoreVersionLocalizations", id] => match *method {
            Method::GET => app_store_localizations::get_localization(req, id),
            Method::PATCH => app_store_localizations::update_localization(req, id),
            _ => not_allowed(),
        },
        ["appStoreVersionLocalizations", id, "appScreenshotSets"] => {
            get(&|| app_store_localizations::screenshot_sets(req, id))
        }
        ["appStoreVersionPhasedReleases"] => {
            only(req, &[Method::POST]).and_then(|_| app_store::create_phased_release(req))
        }
        ["appStoreVersionPhasedReleases", id] => {
            only(req, &[Method::DELETE]).and_then(|_| app_store::delete_phased_release(req, id))
        }
        ["apps", id, "reviewSubmissions"] => get(&|| review_submissions::list_for_app(req, id)),
        ["reviewSubmissions"] => match *method {
            Method::GET => review_submissions::list(req),
            Method::POST => review_submissions::create(req),
            _ => not_allowed(),
        },
        ["reviewSubmissions", id] => match *method {
            Method::GET => review_submissions::get(req, id),
            Method::PATCH => review_submissions::update(req, id),
            _ => not_allowed(),
        },
        ["reviewSubmissions", id, "items"] => get(&|| review_submissions::items(req, id)),
        ["reviewSubmissionItems"] => only(req, &[Method::POST]).and_then(|_| review_submissions::add_item(req)),
        _ => Err(ApiError::path_not_found()),
    }
}

fn only(req: &Req<'_>, methods: &[Method]) -> Result<(), ApiError> {
    if methods.contains(req.method) {
        Ok(())
    } else {
        Err(ApiError::method_not_allowed(req.method.as_str()))
    }
}

/// Query parameters in order, decoded.
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    fn parse(raw: &str) -> Self {
        Query(
            url::form_urlencoded::parse(raw.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A comma-separated list parameter.
    pub fn list(&self, name: &str) -> Option<Vec<String>> {
        self.get(name).map(|v| {
            v.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
    }

    /// Refuses parameters this endpoint does not know (Apple answers 400 for them).
    /// `fields[...]` sparse fieldsets are accepted and ignored.
    pub fn allow_only(&self, allowed: &[&str]) -> Result<(), ApiError> {
        for (k, _) in &self.0 {
            if !allowed.contains(&k.as_str()) && !k.starts_with("fields[") {
                return Err(ApiError::bad_param(
                    k,
                    format!("The parameter '{k}' can not be used with this request"),
                ));
            }
        }
        Ok(())
    }

    /// `include=a,b` checked against what the endpoint supports.
    pub fn include(&self, supported: &[&str]) -> Result<Vec<String>, ApiError> {
        let list = self.list("include").unwrap_or_default();
        for item in &list {
            if !supported.contains(&item.as_str()) {
                return Err(ApiError::bad_param(
                    "include",
                    format!("'{item}' is not a valid relationship name"),
                ));
            }
        }
        Ok(list)
    }

    /// One value of an enum-like parameter checked against its allowed values.
    pub fn enum_list(&self, name: &str, allowed: &[&str]) -> Result<Option<Vec<String>>, ApiError> {
        let Some(list) = self.list(name) else {
            return Ok(None);
        };
        for v in &list {
            if !allowed.contains(&v.as_str()) {
                return Err(ApiError::bad_param(
                    name,
                    format!(
                        "'{v}' is not a valid value for '{name}'; expected one of {}",
                        allowed.join(", ")
                    ),
                ));
            }
        }
        Ok(Some(list))
    }
}

/// Cuts a sorted list into one page per `limit` and `cursor`, with `links` and `meta.paging`.
pub(crate) fn page(req: &Req<'_>, items: Vec<Value>, included: Vec<Value>) -> Result<Reply, ApiError> {
    let limit = match req.query.get("limit") {
        None => 50,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=200).contains(&n) => n,
            _ => {
                return Err(ApiError::bad_param(
                    "limit",
                    format!("'{v}' is not a valid value for 'limit'; it must be between 1 and 200"),
                ));
            }
        },
    };
    let offset = match req.query.get("cursor") {
        None => 0,
        Some(c) => json::decode_cursor(c)
            .ok_or_else(|| ApiError::bad_param("cursor", format!("'{c}' is not a valid cursor")))?,
    };
    let total = items.len();
    let end = offset.saturating_add(limit).min(total);
    let data: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
    let mut links = json!({ "self": req.self_link() });
    let mut paging = json!({ "total": total, "limit": limit });
    if end < total {
        let cursor = json::encode_cursor(end);
        links["next"] = Value::String(with_params(req, &[("cursor", &cursor), ("limit", &limit.to_string())]));
        paging["nextCursor"] = Value::String(cursor);
    }
    let mut doc = json!({ "data": data, "links": links, "meta": { "paging": paging } });
    if !included.is_empty() {
        doc["included"] = Value::Array(included);
    }
    Ok(Reply::Json(200, doc))
}

/// The current request URL with some parameters replaced.
fn with_params(req: &Req<'_>, set: &[(&str, &str)]) -> String {
    let path = req.path_and_query.split('?').next().unwrap_or("");
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &req.query.0 {
        if !set.iter().any(|(name, _)| name == k) {
            ser.append_pair(k, v);
        }
    }
    for (k, v) in set {
        ser.append_pair(k, v);
    }
    format!("{}{path}?{}", req.base(), ser.finish())
}

/// The `data` object of a JSON:API request body of `kind`, or Apple's 409/422 for a bad body.
/// The request body as JSON (Apple answers 422 to a body that is not JSON).
pub(crate) fn parse_body(req: &Req<'_>) -> Result<Value, ApiError> {
    serde_json::from_slice(&req.body).map_err(|e| {
        ApiError::new(
            422,
            "ENTITY_UNPROCESSABLE",
            "The request entity is not processable",
            format!("The request body is not valid JSON: {e}"),
        )
    })
}

/// The path id and the body's `data.id` must agree (Apple: 409 ENTITY_ERROR.ID.INVALID).
pub(crate) fn same_id(data: &Map<String, Value>, id: &str) -> Result<(), ApiError> {
    match data.get("id").and_then(Value::as_str) {
        Some(body_id) if body_id == id => Ok(()),
        Some(body_id) => Err(ApiError::new(
            409,
            "ENTITY_ERROR.ID.INVALID",
            "The provided entity id is invalid",
            format!("The resource id '{body_id}' does not match the id '{id}' in the request path"),
        )
        .pointer("/data/id")),
        None => Err(required("id", "/data/id")),
    }
}

pub(crate) fn body_data(req: &Req<'_>, kind: &str) -> Result<Map<String, Value>, ApiError> {
    let doc = parse_body(req)?;
    let Some(data) = doc.get("data").and_then(Value::as_object) else {
        return Err(ApiError::new(
            409,
            "ENTITY_ERROR",
            "The provided entity is invalid",
            "The request body must be a JSON:API document with a 'data' object.",
        )
        .pointer("/data"));
    };
    match data.get("type").and_then(Value::as_str) {
        Some(t) if t == kind => Ok(data.clone()),
        Some(t) => Err(ApiError::new(
            409,
            "ENTITY_ERROR.INCLUDED.INVALID_TYPE",
            "The provided entity includes a resource with an invalid type",
            format!("'{t}' is not a valid type for this request; expected '{kind}'"),
        )
        .pointer("/data/type")),
        None => Err(required("type", "/data/type")),
    }
}

pub(crate) fn required(name: &str, pointer: &str) -> ApiError {
    ApiError::new(
        409,
        "ENTITY_ERROR.ATTRIBUTE.REQUIRED",
        "The provided entity is missing a required attribute",
        format!("You must provide a value for the attribute '{name}' with this request"),
    )
    .pointer(pointer)
}

pub(crate) fn invalid_attribute(name: &str, detail: impl Into<String>) -> ApiError {
    ApiError::new(
        409,
        "ENTITY_ERROR.ATTRIBUTE.INVALID",
        "The provided entity includes an attribute with an invalid value",
        detail,
    )
    .pointer(format!("/data/attributes/{name}"))
}

/// The attributes object; unknown attribute names are refused like Apple does.
pub(crate) fn attributes(
    data: &Map<String, Value>,
    kind: &str,
    known: &[&str],
) -> Result<Map<String, Value>, ApiError> {
    let attrs = match data.get("attributes") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(invalid_attribute("", "'attributes' must be an object")),
    };
    for name in attrs.keys() {
        if !known.contains(&name.as_str()) {
            return Err(ApiError::new(
                409,
                "ENTITY_ERROR.ATTRIBUTE.UNKNOWN",
                "The provided entity includes an unknown attribute",
                format!("'{name}' is not an attribute on the resource '{kind}'"),
            )
            .pointer(format!("/data/attributes/{name}")));
        }
    }
    Ok(attrs)
}

/// A required string attribute.
pub(crate) fn string_attr(attrs: &Map<String, Value>, name: &str) -> Result<String, ApiError> {
    match attrs.get(name) {
        None | Some(Value::Null) => Err(required(name, &format!("/data/attributes/{name}"))),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(invalid_attribute(name, format!("'{name}' must not be empty"))),
        Some(_) => Err(invalid_attribute(name, format!("'{name}' must be a string"))),
    }
}

/// A required string attribute limited to `allowed` values.
pub(crate) fn enum_attr(attrs: &Map<String, Value>, name: &str, allowed: &[&str]) -> Result<String, ApiError> {
    let v = string_attr(attrs, name)?;
    if allowed.contains(&v.as_str()) {
        Ok(v)
    } else {
        Err(invalid_attribute(
            name,
            format!(
                "'{v}' is not a valid value for '{name}'; expected one of {}",
                allowed.join(", ")
            ),
        ))
    }
}

/// The id of a required to-one relationship of `kind`.
pub(crate) fn relationship_id(data: &Map<String, Value>, name: &str, kind: &str) -> Result<String, ApiError> {
    let pointer = format!("/data/relationships/{name}");
    let rel = data
        .get("relationships")
        .and_then(|r| r.get(name))
        .and_then(|r| r.get("data"))
        .and_then(Value::as_object)
        .ok_or_else(|| {
            ApiError::new(
                409,
                "ENTITY_ERROR.RELATIONSHIP.REQUIRED",
                "The provided entity is missing a required relationship",
                format!("You must provide a value for the relationship '{name}' with this request"),
            )
            .pointer(pointer.clone())
        })?;
    let invalid = |detail: String| {
        ApiError::new(
            409,
            "ENTITY_ERROR.RELATIONSHIP.INVALID",
            "The provided entity includes a relationship with an invalid value",
            detail,
        )
        .pointer(pointer.clone())
    };
    if rel.get("type").and_then(Value::as_str) != Some(kind) {
        return Err(invalid(format!("The relationship '{name}' must have type '{kind}'")));
    }
    match rel.get("id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => Ok(id.to_owned()),
        _ => Err(invalid(format!("The relationship '{name}' needs an id"))),
    }
}

/// The relationship points at something that does not exist.
pub(crate) fn unknown_related(name: &str, kind: &str, id: &str) -> ApiError {
    ApiError::new(
        409,
        "ENTITY_ERROR.RELATIONSHIP.INVALID",
        "The provided entity includes a relationship with an invalid value",
        format!("There is no resource of type '{kind}' with id '{id}'"),
    )
    .pointer(format!("/data/relationships/{name}"))
}
