//! A warning names the host and the flag or variable whenever credentials are about to go to a
//! host that is not Apple's (the simulator on loopback included), and whenever a custom root
//! certificate is trusted: an earlier CI step can set these variables for every later step.

use std::process::Command;

use asc_sim::{SimConfig, Simulator};

fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_asc-publish"));
    cmd.env_clear().args(args).envs(env.iter().copied());
    if let Ok(p) = std::env::var("PATH") {
        cmd.env("PATH", p);
    }
    let out = cmd.output().expect("run asc-publish");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn root_pem() -> String {
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.self_signed(&key).expect("cert").pem()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_credentials_off_apple_names_the_host_and_the_setting() {
    let sim = Simulator::start(SimConfig {
        apple_ids: vec![("dev@example.com".into(), "pw-1234-5678".into())],
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    let dir = tempfile::tempdir().expect("tmp");
    let ca = dir.path().join("proxy-root.pem");
    std::fs::write(&ca, root_pem()).expect("ca");
    let key = sim.private_key_path.display().to_string();
    let host = sim.api_url.trim_start_matches("http://").to_string();
    let (api, ca) = (sim.api_url.clone(), ca.display().to_string());
    let checks = tokio::task::spawn_blocking(move || {
        let key_env = [("ASC_KEY_ID", "ZX9R4HXF34"), ("ASC_PRIVATE_KEY", key.as_str())];
        let mut results = Vec::new();
        let (_, e) = run(&["builds", "list", "--bundle-id", "b", "--api-url", &api], &key_env);
        results.push(("--api-url", e.contains(&host) && e.contains("set by --api-url"), e));
        let mut env = key_env.to_vec();
        env.extend([("ASC_API_URL", api.as_str()), ("GITHUB_ACTIONS", "true")]);
        let (_, e) = run(&["builds", "list", "--bundle-id", "b"], &env);
        let annotated = e.lines().any(|l| {
            l.starts_with("::warning title=asc-publish endpoint::") && l.contains(&host) && l.contains("ASC_API_URL")
        });
        results.push(("ASC_API_URL on GitHub", annotated, e));
        let mut env = key_env.to_vec();
        env.extend([("ASC_API_URL", api.as_str()), ("ASC_TLS_ROOT_CA", ca.as_str())]);
        let (_, e) = run(&["builds", "list", "--bundle-id", "b"], &env);
        results.push((
            "ASC_TLS_ROOT_CA",
            e.contains("proxy-root.pem") && e.contains("set by ASC_TLS_ROOT_CA"),
            e,
        ));
        let env = [
            ("ASC_APP_SPECIFIC_PASSWORD", "pw-1234-5678"),
            ("ASC_CONTENT_DELIVERY_URL", api.as_str()),
            ("ASC_EXTRA_ROOT_CA", ca.as_str()),
        ];
        let (_, e) = run(&["upload", "none.ipa", "--apple-id", "dev@example.com"], &env);
        results.push((
            "ASC_CONTENT_DELIVERY_URL",
            e.contains(&host) && e.contains("set by ASC_CONTENT_DELIVERY_URL") && e.contains("password"),
            e.clone(),
        ));
        results.push(("ASC_EXTRA_ROOT_CA", e.contains("set by ASC_EXTRA_ROOT_CA"), e));
        results
    })
    .await
    .expect("join");
    for (what, ok, stderr) in checks {
        assert!(ok, "{what}: no warning naming the host and the setting:\n{stderr}");
    }
}
