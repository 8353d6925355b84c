//! `asc-publish builds list|status|expire`: the app's builds as a table or JSON, one upload's or
//! build's states with Apple's messages, and expiring builds.

use std::sync::Arc;

use clap::{Args, Subcommand};
use serde::Serialize;
use serde_json::Value;

use crate::asc::AscClient;
use crate::asc::clock::SystemClock;
use crate::asc::credentials::Env;
use crate::asc::error::sanitize;
use crate::asc::model::{Build, BuildUpload, Document, ListDocument};
use crate::cli::connection_args::ConnectionArgs;
use crate::error::Error;
use crate::outcome::Message;
use crate::output::Format;
use crate::publish::distribution::DistributionError;
use crate::publish::distribution::expire::{Expired, expire};
use crate::publish::preflight::{find_app, seg};

#[derive(Debug, Args)]
pub struct BuildsArgs {
    #[command(subcommand)]
    pub command: BuildsCommand,
}

#[derive(Debug, Subcommand)]
pub enum BuildsCommand {
    /// The app's builds, newest first: version, build number, dates, states, groups.
    List(ListArgs),
    /// An upload's or a build's states with Apple's errors, warnings and infos.
    Status(StatusArgs),
    /// Expire builds (App Store Connect's way of removing one from TestFlight).
    Expire(ExpireArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[arg(long, value_name = "ID")]
    pub app_id: Option<String>,
    #[arg(long, value_name = "ID", required_unless_present = "app_id")]
    pub bundle_id: Option<String>,
    /// Only this CFBundleShortVersionString.
    #[arg(long, value_name = "VERSION")]
    pub version: Option<String>,
    /// Only builds of this platform's version trains.
    #[arg(long, value_parser = ["IOS", "MAC_OS", "TV_OS", "VISION_OS"])]
    pub platform: Option<String>,
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=200))]
    pub limit: u16,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// An upload id or a build id.
    pub id: String,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Debug, Args)]
pub struct ExpireArgs {
    /// Build ids.
    #[arg(required = true)]
    pub build_ids: Vec<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

impl BuildsArgs {
    pub fn format(&self) -> Format {
        match &self.command {
            BuildsCommand::List(a) => a.format,
            BuildsCommand::Status(a) => a.format,
            BuildsCommand::Expire(a) => a.format,
        }
    }
}

impl BuildsArgs {
    /// The connection flags of whichever subcommand this is.
    pub fn connection(&self) -> &ConnectionArgs {
        match &self.command {
            BuildsCommand::List(a) => &a.connection,
            BuildsCommand::Status(a) => &a.connection,
            BuildsCommand::Expire(a) => &a.connection,
        }
    }
}

pub fn run(args: BuildsArgs) -> Result<i32, Error> {
    let env = Env::from_process();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::usage(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(async {
        let conn = args.connection();
        let (client, _) = crate::cli::connection_args::connect(conn, &env, Arc::new(SystemClock))?;
        let (text, json, code) = match &args.command {
            BuildsCommand::List(a) => {
                let rows = list(&client, a).await?;
                (table(&rows), serde_json::to_value(&rows).unwrap_or(Value::Null), 0)
            }
            BuildsCommand::Status(a) => {
                let s = status(&client, &a.id).await?;
                (status_text(&s), serde_json::to_value(&s).unwrap_or(Value::Null), 0)
            }
            BuildsCommand::Expire(a) => expire_all(&client, &a.build_ids).await?,
        };
        match args.format() {
            Format::Text => crate::output::print(&text),
            Format::Json => {
                let mut json = json;
                crate::output::redact_json(&mut json);
                println!("{}", serde_json::to_string_pretty(&json).unwrap_or_default());
            }
        }
        Ok(code)
    })
}

/// One row of `builds list`.
#[derive(Debug, Clone, Serialize)]
pub struct BuildRow {
    pub id: String,
    pub version: Option<String>,
    pub build_number: Option<String>,
    pub uploaded: Option<String>,
    pub processing_state: Option<String>,
    pub internal_state: Option<String>,
    pub external_state: Option<String>,
    pub expired: bool,
    pub groups: Vec<String>,
}

fn find_included<'a>(included: &'a [Value], kind: &str, id: &str) -> Option<&'a Value> {
    included.iter().find(|i| i["type"] == kind && i["id"] == id)
}

fn str_of(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer).and_then(Value::as_str).map(sanitize)
}

fn to_many(b: &Build, name: &str) -> Vec<String> {
    b.relationships
        .as_ref()
        .and_then(|r| r.get(name))
        .and_then(|r| r.get("data"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|l| l["id"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

fn state_text<T: Serialize>(v: &Option<T>) -> Option<String> {
    v.as_ref()
        .and_then(|s| serde_json::to_value(s).ok())
        .and_then(|v| v.as_str().map(str::to_string))
}

/// The app's builds, newest first, with their TestFlight states and groups.
pub async fn list(client: &AscClient, a: &ListArgs) -> Result<Vec<BuildRow>, Error> {
    let app_id = match (&a.app_id, &a.bundle_id) {
        (Some(id), _) => id.clone(),
        (None, Some(b)) => find_app(client, b).await?,
        (None, None) => return Err(Error::usage("pass --app-id or --bundle-id")),
    };
    let limit = a.limit.to_string();
    let mut q = vec![
        ("filter[app]", app_id.as_str()),
        ("filter[processingState]", "PROCESSING,FAILED,INVALID,VALID"),
        ("sort", "-uploadedDate"),
        ("include", "preReleaseVersion,buildBetaDetail,betaGroups"),
        ("limit", limit.as_str()),
    ];
    if let Some(v) = &a.version {
        q.push(("filter[preReleaseVersion.version]", v.as_str()));
    }
    if let Some(p) = &a.platform {
        q.push(("filter[preReleaseVersion.platform]", p.as_str()));
    }
    let url = client.url("/v1/builds", &q)?;
    let doc: ListDocument<Build> = client.get(url).await?;
    let mut rows = Vec::new();
    for b in &doc.data {
        let attrs = b.attributes.as_ref();
        let version = b
            .related_id("preReleaseVersion")
            .and_then(|id| find_included(&doc.included, "preReleaseVersions", id))
            .and_then(|p| str_of(p, "/attributes/version"));
        let detail = b
            .related_id("buildBetaDetail")
            .and_then(|id| find_included(&doc.included, "buildBetaDetails", id));
        let groups = to_many(b, "betaGroups")
            .iter()
            .map(|id| {
                find_included(&doc.included, "betaGroups", id)
                    .and_then(|g| str_of(g, "/attributes/name"))
                    .unwrap_or_else(|| id.clone())
            })
            .collect();
        rows.push(BuildRow {
            id: b.id.clone(),
            version,
            build_number: attrs.and_then(|a| a.version.as_deref()).map(sanitize),
            uploaded: attrs.and_then(|a| a.uploaded_date.as_deref()).map(sanitize),
            processing_state: attrs.and_then(|a| state_text(&a.processing_state)),
            internal_state: detail.and_then(|d| str_of(d, "/attributes/internalBuildState")),
            external_state: detail.and_then(|d| str_of(d, "/attributes/externalBuildState")),
            expired: attrs.and_then(|a| a.expired).unwrap_or(false),
            groups,
        });
    }
    Ok(rows)
}

/// Rows as an aligned table.
pub fn table(rows: &[BuildRow]) -> String {
    let header = [
        "VERSION",
        "BUILD",
        "UPLOADED",
        "PROCESSING",
        "INTERNAL",
        "EXTERNAL",
        "EXPIRED",
        "GROUPS",
        "ID",
    ];
    let dash = || "-".to_string();
    let mut cells: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    for r in rows {
        cells.push(vec![
            r.version.clone().unwrap_or_else(dash),
            r.build_number.clone().unwrap_or_else(dash),
            r.uploaded.clone().unwrap_or_else(dash),
            r.processing_state.clone().unwrap_or_else(dash),
            r.internal_state.clone().unwrap_or_else(dash),
            r.external_state.clone().unwrap_or_else(dash),
            if r.expired { "yes" } else { "no" }.to_string(),
            if r.groups.is_empty() {
                dash()
            } else {
                r.groups.join(",")
            },
            r.id.clone(),
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            cells
                .iter()
                .filter_map(|row| row.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in &cells {
        let line: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    if rows.is_empty() {
        out.push_str("(no builds)\n");
    }
    out
}

/// What `builds status` shows.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// `upload` or `build`: which kind of id was given.
    pub kind: String,
    pub upload_id: Option<String>,
    pub build_id: Option<String>,
    pub version: Option<String>,
    pub build_number: Option<String>,
    pub upload_state: Option<String>,
    pub processing_state: Option<String>,
    pub expired: Option<bool>,
    pub messages: Vec<Message>,
}

fn upload_messages(u: &BuildUpload) -> Vec<Message> {
    let mut out = Vec::new();
    if let Some(st) = u.attributes.as_ref().and_then(|a| a.state.as_ref()) {
        for (level, list) in [("error", &st.errors), ("warning", &st.warnings), ("info", &st.infos)] {
            for d in list.iter().flatten() {
                out.push(crate::publish::processing::message(level, d));
            }
        }
    }
    out
}

/// Tries the id as an upload, then as a build; neither → exit 4.
pub async fn status(client: &AscClient, id: &str) -> Result<Status, Error> {
    let url = client.url(&format!("/v1/buildUploads/{}", seg(id)), &[("include", "build")])?;
    let (upload, kind) = match client.get::<Document<BuildUpload>>(url).await {
        Ok(doc) => (Some(doc.data), "upload"),
        Err(e) if e.is_not_found() => (None, "build"),
        Err(e) => return Err(e.into()),
    };
    let build_id = match &upload {
        Some(u) => u.related_id("build").map(str::to_string),
        None => Some(id.to_string()),
    };
    let mut build = None;
    if let Some(b) = &build_id {
        let url = client.url(&format!("/v1/builds/{}", seg(b)), &[("include", "buildUpload")])?;
        match client.get::<Document<Build>>(url).await {
            Ok(doc) => build = Some(doc.data),
            Err(e) if e.is_not_found() && upload.is_none() => {
                return Err(DistributionError::NotFound(format!(
                    "'{}' is neither an upload id nor a build id of this account",
                    sanitize(id)
                ))
                .into());
            }
            Err(e) => return Err(e.into()),
        }
    }
    // A build id: its upload (when linked) carries Apple's messages.
    let upload = match (upload, build.as_ref().and_then(|b| b.related_id("buildUpload"))) {
        (Some(u), _) => Some(u),
        (None, Some(uid)) => {
            let url = client.url(&format!("/v1/buildUploads/{}", seg(uid)), &[])?;
            client.get::<Document<BuildUpload>>(url).await.ok().map(|d| d.data)
        }
        (None, None) => None,
    };
    let ua = upload.as_ref().and_then(|u| u.attributes.as_ref());
    let ba = build.as_ref().and_then(|b| b.attributes.as_ref());
    Ok(Status {
        kind: kind.into(),
        upload_id: upload.as_ref().map(|u| u.id.clone()),
        build_id: build.as_ref().map(|b| b.id.clone()),
        version: ua
            .and_then(|a| a.cf_bundle_short_version_string.as_deref())
            .map(sanitize),
        build_number: ua
            .and_then(|a| a.cf_bundle_version.as_deref())
            .or(ba.and_then(|a| a.version.as_deref()))
            .map(sanitize),
        upload_state: ua
            .and_then(|a| a.state.as_ref())
            .and_then(|s| state_text(&Some(s.state))),
        processing_state: ba.and_then(|a| state_text(&a.processing_state)),
        expired: ba.and_then(|a| a.expired),
        messages: upload.as_ref().map(upload_messages).unwrap_or_default(),
    })
}

fn status_text(s: &Status) -> String {
    let mut out = String::new();
    let d = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    out.push_str(&format!("{} {} ({})\n", s.kind, d(&s.version), d(&s.build_number)));
    out.push_str(&format!("  upload id:        {}\n", d(&s.upload_id)));
    out.push_str(&format!("  upload state:     {}\n", d(&s.upload_state)));
    out.push_str(&format!("  build id:         {}\n", d(&s.build_id)));
    out.push_str(&format!("  processing state: {}\n", d(&s.processing_state)));
    if let Some(e) = s.expired {
        out.push_str(&format!("  expired:          {}\n", if e { "yes" } else { "no" }));
    }
    for m in &s.messages {
        out.push_str(&format!(
            "  Apple {}: {}{}\n",
            m.level,
            m.code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default(),
            m.description
        ));
    }
    out
}

/// Expires each build (text, JSON, exit code); already expired ones are reported. Any failure → its exit code, after
/// every id was tried.
pub async fn expire_all(client: &AscClient, ids: &[String]) -> Result<(String, Value, i32), Error> {
    let mut text = String::new();
    let mut json = Vec::new();
    let mut code = 0;
    for id in ids {
        let (result, message) = match expire(client, id).await {
            Ok(Expired::Now) => ("expired", None),
            Ok(Expired::Already) => ("already_expired", None),
            Err(e) => {
                code = code.max(e.exit_code());
                ("failed", Some(e.message().to_string()))
            }
        };
        text.push_str(&format!(
            "{id}: {}{}\n",
            result.replace('_', " "),
            message.as_deref().map(|m| format!(" — {m}")).unwrap_or_default()
        ));
        json.push(serde_json::json!({ "id": id, "result": result, "message": message }));
    }
    Ok((text, Value::Array(json), code))
}
