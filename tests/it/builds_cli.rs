//! `asc-publish builds list|status|expire` against the simulator, in-process, with every request
//! checked against the OpenAPI subset.

use std::sync::Arc;

use crate::support::distribute::{World, scene};
use asc_publish::asc::AscClient;
use asc_publish::asc::Env;
use asc_publish::asc::clock::SystemClock;
use asc_publish::cli::builds::{self, BuildsCommand};
use asc_publish::cli::connection_args::ConnectionArgs;
use asc_publish::cli::{Cli, Command as Sub};
use clap::Parser;

fn parse(w: &World, args: &[&str]) -> BuildsCommand {
    let mut argv: Vec<String> = vec!["asc-publish".into(), "builds".into()];
    argv.extend(args.iter().map(|s| s.to_string()));
    argv.extend(w.conn());
    let Sub::Builds(b) = Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{e}")).command else {
        unreachable!()
    };
    b.command
}

fn client(c: &ConnectionArgs) -> AscClient {
    asc_publish::cli::connection_args::connect(c, &Env::default(), Arc::new(SystemClock))
        .unwrap()
        .api
}

fn seeded() -> asc_sim::SimConfig {
    scene(|tf| {
        tf.builds = ["1.0.0=40", "1.0.0=41", "1.1.0=44:expired", "1.1.0=45:processing"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
    })
}

#[tokio::test]
async fn list_as_an_aligned_table_and_as_json() {
    let w = World::start(seeded()).await;
    let b41 = w.build_id("41").await;
    w.distribute(&["--build-id", &b41, "--groups", "QA"]).await.0.unwrap();

    let BuildsCommand::List(a) = parse(&w, &["list", "--bundle-id", "com.example.demo"]) else {
        unreachable!()
    };
    let rows = builds::list(&client(&a.connection), &a).await.unwrap();
    assert_eq!(rows.len(), 4);
    let r41 = rows.iter().find(|r| r.id == b41).unwrap();
    assert_eq!(r41.version.as_deref(), Some("1.0.0"));
    assert_eq!(r41.build_number.as_deref(), Some("41"));
    assert_eq!(r41.processing_state.as_deref(), Some("VALID"));
    assert_eq!(r41.internal_state.as_deref(), Some("IN_BETA_TESTING"));
    assert!(r41.uploaded.is_some());
    let mut groups = r41.groups.clone();
    groups.sort();
    assert_eq!(groups, ["Everyone", "QA"]);
    let r44 = rows.iter().find(|r| r.build_number.as_deref() == Some("44")).unwrap();
    assert!(r44.expired);
    let r45 = rows.iter().find(|r| r.build_number.as_deref() == Some("45")).unwrap();
    assert_eq!(r45.processing_state.as_deref(), Some("PROCESSING"));

    let table = builds::table(&rows);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("VERSION  BUILD"), "{table}");
    // Aligned: every row's build-number column starts where the header's does.
    let col = lines[0].find("BUILD").unwrap();
    for l in &lines[1..] {
        assert!(l[col..].chars().next().unwrap().is_ascii_digit(), "{table}");
        assert_eq!(&l[col - 2..col], "  ", "{table}");
    }
    let json = serde_json::to_value(&rows).unwrap();
    assert!(json[0]["processing_state"].as_str().is_some());
    assert!(
        json.as_array()
            .unwrap()
            .iter()
            .any(|r| r["groups"].as_array().unwrap().len() == 2)
    );

    let BuildsCommand::List(a) = parse(
        &w,
        &[
            "list",
            "--app-id",
            "6450000001",
            "--version",
            "1.1.0",
            "--limit",
            "1",
            "--format",
            "json",
        ],
    ) else {
        unreachable!()
    };
    let rows = builds::list(&client(&a.connection), &a).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].version.as_deref(), Some("1.1.0"));
    w.assert_conformant();
}

#[tokio::test]
async fn status_detects_upload_and_build_ids_and_shows_apples_messages() {
    let w = World::start(scene(|tf| tf.processing_warnings = vec!["90725".into()])).await;
    let ipa = w.ipa("1.0.0", "9");
    let (r, outcome) = w.upload(&ipa, &[]).await;
    r.unwrap();
    let (upload_id, build_id) = (outcome.upload_id.unwrap(), outcome.build_id.unwrap());

    let BuildsCommand::Status(a) = parse(&w, &["status", &upload_id]) else {
        unreachable!()
    };
    let c = client(&a.connection);
    let s = builds::status(&c, &a.id).await.unwrap();
    assert_eq!(s.kind, "upload");
    assert_eq!(s.upload_state.as_deref(), Some("COMPLETE"));
    assert_eq!(s.processing_state.as_deref(), Some("VALID"));
    assert_eq!(s.build_id.as_deref(), Some(build_id.as_str()));
    assert!(
        s.messages
            .iter()
            .any(|m| m.level == "warning" && m.code.as_deref() == Some("ITMS-90725")),
        "{:?}",
        s.messages
    );

    let s = builds::status(&c, &build_id).await.unwrap();
    assert_eq!(s.kind, "build");
    assert_eq!(s.build_number.as_deref(), Some("9"));
    assert_eq!(s.processing_state.as_deref(), Some("VALID"));

    let e = builds::status(&c, "no-such-id").await.unwrap_err();
    assert_eq!(e.exit_code(), 4);
    assert!(
        e.message().contains("neither an upload id nor a build id"),
        "{}",
        e.message()
    );
    w.assert_conformant();
}

#[tokio::test]
async fn expire_reports_already_expired_builds_and_fails_on_unknown_ids() {
    let w = World::start(seeded()).await;
    let (b40, b44) = (w.build_id("40").await, w.build_id("44").await);
    let BuildsCommand::Expire(a) = parse(&w, &["expire", &b40, &b44]) else {
        unreachable!()
    };
    let c = client(&a.connection);
    let (text, json, code) = builds::expire_all(&c, &a.build_ids).await.unwrap();
    assert_eq!(code, 0, "{text}");
    assert_eq!(json[0]["result"], "expired");
    assert_eq!(json[1]["result"], "already_expired");
    assert!(text.contains(&format!("{b44}: already expired")), "{text}");
    let v = w.get(&format!("/v1/builds/{b40}")).await;
    assert_eq!(v["data"]["attributes"]["expired"], true);

    let (text, json, code) = builds::expire_all(&c, &["nope".to_string(), b40.clone()])
        .await
        .unwrap();
    assert_eq!(code, 4, "{text}");
    assert_eq!(json[0]["result"], "failed");
    assert_eq!(json[1]["result"], "already_expired");
    w.assert_conformant();
}
