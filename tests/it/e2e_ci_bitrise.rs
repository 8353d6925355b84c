//! The binary in a fake Bitrise build (BITRISE_* environment, a fake `envman` on PATH that records
//! what it is asked to export, a deploy directory) against the in-process simulator.

use std::os::unix::fs::PermissionsExt as _;

use crate::support::e2e_ci::*;
use asc_sim::ProcessingResult;

/// Installs a fake `envman` in `bin/` that appends `KEY=VALUE` lines to `envman.log`.
fn build_env(world: &World) -> (Vec<(String, String)>, std::path::PathBuf, std::path::PathBuf) {
    let bin = world.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = world.path("envman.log");
    let script = format!(
        "#!/bin/sh\n# add --key K --value V\n[ \"$1\" = add ] || exit 3\nprintf '%s=%s\\n' \"$3\" \"$5\" >> '{}'\n",
        log.display()
    );
    let envman = bin.join("envman");
    std::fs::write(&envman, script).unwrap();
    std::fs::set_permissions(&envman, std::fs::Permissions::from_mode(0o755)).unwrap();
    let deploy = world.path("deploy");
    let env = vec![
        kv("BITRISE_IO", "true"),
        kv("BITRISE_BUILD_NUMBER", "12"),
        kv("BITRISE_BUILD_URL", "https://app.bitrise.io/build/abc"),
        kv("BITRISE_DEPLOY_DIR", deploy.to_string_lossy()),
        kv("PATH", format!("{}:/usr/bin:/bin", bin.display())),
    ];
    (env, log, deploy)
}

fn exported(log: &std::path::Path) -> Vec<(String, String)> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outputs_go_through_envman_and_the_report_to_the_deploy_dir() {
    let world = World::start(ProcessingResult::Valid).await;
    let (env, log, deploy) = build_env(&world);
    let run = world.upload(&[], &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let vars = exported(&log);
    assert!(!get(&vars, "ASC_BUILD_ID").is_empty(), "{vars:?}");
    assert_eq!(get(&vars, "ASC_BUILD_NUMBER"), "1");
    assert_eq!(get(&vars, "ASC_PROCESSING_STATE"), "VALID");
    let report = std::fs::read_to_string(deploy.join("asc-publish-report.md")).unwrap();
    assert!(report.contains("**Published**") && report.contains("gantt"), "{report}");
    for (p, text) in all_files(world.dir.path()) {
        assert_no_key(&p.to_string_lossy(), &text, &world.key_pem);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apple_rejection_still_exports_and_reports() {
    let world = World::start(ProcessingResult::Invalid).await;
    let (env, log, deploy) = build_env(&world);
    let run = world.upload(&[], &env).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(get(&exported(&log), "ASC_PROCESSING_STATE"), "INVALID");
    let report = std::fs::read_to_string(deploy.join("asc-publish-report.md")).unwrap();
    assert!(report.contains("**Rejected by Apple**"), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_envman_the_run_warns_once_and_keeps_its_exit_code() {
    let world = World::start(ProcessingResult::Valid).await;
    let (mut env, _log, _deploy) = build_env(&world);
    env.retain(|(k, _)| k != "PATH");
    env.push(kv("PATH", "/nonexistent"));
    let run = world.upload(&[], &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        // The simulator is not an Apple host: that warning is not the report's.
        .filter(|l| l.starts_with("warning: ") && !l.contains("not an Apple host") && !l.contains("custom root"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", run.stderr);
    assert!(warnings[0].contains("envman"));
}
