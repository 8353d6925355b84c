//! Running one test alone in a fresh process of this test binary, for the few tests that measure
//! or depend on process-wide state (peak RSS, the secret registry of `asc_publish::output`) and so
//! cannot share the process with the rest of the suite.

use std::process::Command;

const VAR: &str = "ASC_PUBLISH_IT_OWN_PROCESS";

/// In the child, `true`: run the test's body. In the parent, runs `module::test` (`module` is
/// the caller's `module_path!()`) alone in a new process, fails if it did not pass, and returns
/// `false`: the body already ran there.
pub fn own_process(module: &str, test: &str) -> bool {
    // libtest names tests without the crate: `upload_memory::a_test`, not `it::upload_memory::a_test`.
    let module = module.split_once("::").map_or("", |(_, rest)| rest);
    let name = if module.is_empty() {
        test.to_string()
    } else {
        format!("{module}::{test}")
    };
    if std::env::var(VAR).is_ok_and(|v| v == name) {
        return true;
    }
    let out = Command::new(std::env::current_exe().expect("the test binary"))
        .args([name.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env(VAR, &name)
        // glibc gives each thread that allocates its own malloc arena; how many get touched depends
        // on thread scheduling, so the peak RSS of the same upload varied 30–33 MiB with the default
        // and 18–20 MiB with one arena (2 cores, loaded). A measurement of our buffering must not
        // depend on the scheduler's luck.
        .env("MALLOC_ARENA_MAX", "2")
        .output()
        .expect("run the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // A name that matched nothing would pass with 0 tests run.
    assert!(
        out.status.success() && stdout.contains("test result: ok. 1 passed"),
        "{name} in its own process failed:\n{stdout}\n{stderr}"
    );
    eprint!("{stderr}");
    false
}
