//! `asc-publish builds list|status|expire`: the app's builds as a table or JSON, one upload's or
//! build's states with Apple's messages, and expiring builds.

use std::sync::Arc;

use clap::{Args, Subcommand};
use serde_json::Value;

use crate::asc::AscClient;
use crate::asc::clock::SystemClock;
use crate::asc::credentials::Env;
use crate::cli::connection_args::ConnectionArgs;
use crate::error::{Error, ExitCode};
use crate::output::Format;
use crate::publish::build_info;
pub use crate::publish::build_info::{BuildRow, Status, status};
use crate::publish::distribution::expire::{Expired, expire_each};
use crate::publish::preflight::find_app;

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

pub fn run(args: BuildsArgs, env: &Env) -> Result<i32, Error> {
    crate::runtime::block_on(async {
        let conn = args.connection();
        let client = crate::cli::connection_args::connect(conn, env, Arc::new(SystemClock))?.api;
        let (text, json, code) = match &args.command {
            BuildsCommand::List(a) => {
                let rows = list(&client, a).await?;
                (
                    table(&rows),
                    serde_json::to_value(&rows).unwrap_or(Value::Null),
                    ExitCode::Success.code(),
                )
            }
            BuildsCommand::Status(a) => {
                let s = status(&client, &a.id).await?;
                (
                    status_text(&s),
                    serde_json::to_value(&s).unwrap_or(Value::Null),
                    ExitCode::Success.code(),
                )
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
    })?
}

/// The app's builds, newest first, with their TestFlight states and groups.
pub async fn list(client: &AscClient, a: &ListArgs) -> Result<Vec<BuildRow>, Error> {
    let app_id = match (&a.app_id, &a.bundle_id) {
        (Some(id), _) => id.clone(),
        (None, Some(b)) => find_app(client, b).await?,
        (None, None) => return Err(Error::usage("pass --app-id or --bundle-id")),
    };
    build_info::list(client, &app_id, a.version.as_deref(), a.platform.as_deref(), a.limit).await
}

/// Rows as an aligned table.
pub fn table(rows: &[BuildRow]) -> String {
    let header = [
        "VERSION",
        "BUILD",
        "PLATFORM",
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
            r.platform.clone().unwrap_or_else(dash),
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

/// Expires each build and renders the results (text, JSON, exit code); already expired ones are
/// reported. Any failure → its exit code, after every id was tried.
pub async fn expire_all(client: &AscClient, ids: &[String]) -> Result<(String, Value, i32), Error> {
    let mut text = String::new();
    let mut json = Vec::new();
    // Several builds can fail differently; the highest code is reported.
    let mut code = ExitCode::Success.code();
    for (id, r) in expire_each(client, ids).await {
        let (result, message) = match r {
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
