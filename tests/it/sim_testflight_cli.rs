//! The TestFlight flags of `asc-publish sim` as a process: --group, --tester, --seed-build,
//! --auto-notify, --beta-review-details and --processing-warning shape what the server answers;
//! bad values are usage errors (exit 2); --help documents them and the BUNDLE_ID: prefix.

use std::process::Command;

use crate::support::process::SimProcess;
use serde_json::Value;

fn names(body: &Value, attr: &str) -> Vec<String> {
    body["data"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| x["attributes"][attr].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn flags_set_the_scene() {
    let sim = SimProcess::spawn(&[
        "--app",
        "com.example.demo=6450000001",
        "--app",
        "com.example.other=6450000002",
        "--group",
        "QA=internal",
        "--group",
        "Everyone=internal-all",
        "--group",
        "com.example.other:Public=external",
        "--tester",
        "qa@example.com",
        "--tester",
        "com.example.other:beta@example.com",
        "--seed-build",
        "1.0.0=41",
        "--seed-build",
        "1.0.0=42:invalid",
        "--seed-build",
        "com.example.other:2.0=7:expired",
        "--auto-notify",
        "on",
        "--beta-review-details",
        "missing",
        "--processing-warning",
        "ITMS-91053",
    ]);
    let (status, groups) = sim.get("/v1/betaGroups?filter[app]=6450000001&sort=name").await;
    assert_eq!(status, 200);
    assert_eq!(names(&groups, "name"), ["Everyone", "QA"]);
    assert_eq!(groups["data"][0]["attributes"]["hasAccessToAllBuilds"], true);
    let (_, other) = sim.get("/v1/apps/6450000002/betaGroups").await;
    assert_eq!(names(&other, "name"), ["Public"]);
    assert_eq!(other["data"][0]["attributes"]["isInternalGroup"], false);

    let (_, testers) = sim.get("/v1/betaTesters?filter[apps]=6450000002").await;
    assert_eq!(names(&testers, "email"), ["beta@example.com"]);

    let (_, builds) = sim
        .get("/v1/builds?filter[app]=6450000001&filter[processingState]=VALID,INVALID&sort=version&include=buildBetaDetail")
        .await;
    assert_eq!(names(&builds, "version"), ["41", "42"]);
    assert_eq!(builds["data"][1]["attributes"]["processingState"], "INVALID");
    assert_eq!(builds["included"][0]["attributes"]["autoNotifyEnabled"], true);
    let (_, expired) = sim.get("/v1/builds?filter[app]=6450000002&filter[expired]=true").await;
    assert_eq!(names(&expired, "version"), ["7"]);

    let (_, review) = sim.get("/v1/apps/6450000001/betaAppReviewDetail").await;
    assert!(review["data"]["attributes"]["contactEmail"].is_null());
    assert!(sim.terminate().success());
}

#[test]
fn bad_values_are_usage_errors_and_help_documents_the_flags() {
    for args in [
        ["--group", "QA=public"],
        ["--tester", "not-an-email"],
        ["--seed-build", "1.0=x"],
        ["--auto-notify", "maybe"],
        ["--beta-review-details", "partial"],
        ["--processing-warning", "abc"],
        ["--group", "com.example.nowhere:QA=internal"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_asc-publish"))
            .arg("sim")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    let help = Command::new(env!("CARGO_BIN_EXE_asc-publish"))
        .args(["sim", "--help"])
        .output()
        .unwrap();
    let text = String::from_utf8(help.stdout).unwrap();
    for flag in [
        "--group",
        "--tester",
        "--seed-build",
        "--auto-notify",
        "--beta-review-details",
        "--processing-warning",
        "BUNDLE_ID:",
        "internal-all",
    ] {
        assert!(text.contains(flag), "{flag} missing from --help");
    }
}
