//! `asc-publish sim`: run the App Store Connect simulator until SIGINT/SIGTERM, announcing where
//! it listens as one JSON line on stdout.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde_json::Value;

use asc_publish::error::Error;
use asc_publish::output::eprint_redacted;
use asc_sim::{
    BuildSeed, Faults, GroupSeed, Processing, ProcessingResult, SimConfig, Simulator, TestFlightConfig, TesterSeed,
};

const AFTER_HELP: &str = "\
Once listening, prints exactly one JSON line on stdout and nothing else:
  {\"api_url\":\"http://127.0.0.1:PORT\",\"key_id\":\"…\",\"issuer_id\":\"…\",\"private_key_path\":\"…\"}
Point asc-publish at it with --api-url (or ASC_API_URL) and the printed key. Logs go to stderr.
Stops cleanly on Ctrl-C (SIGINT) or SIGTERM.

TestFlight scene: --group, --tester and --seed-build belong to the first --app (or
com.example.demo) unless prefixed with BUNDLE_ID: — the prefix is recognised when the text before
the first ':' contains a '.' and no '=' or '@'. Examples:
  --group 'QA=internal' --group 'Everyone=internal-all' --group 'com.example.other:Public=external'
  --tester qa@example.com --tester com.example.other:beta@example.com
  --seed-build 1.0.0=41 --seed-build 1.0.0=42:invalid --seed-build com.example.other:2.0=7:expired
Seeded build states: valid (processed, export compliance answered; the default), no-compliance,
invalid, processing, expired. Seeds already present in --state-dir are kept, not duplicated.";

#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct SimArgs {
    /// Address to listen on; port 0 picks a free port (printed in `api_url`).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,

    /// Keep state (uploads, parts, builds, the generated key) in DIR as JSON so a restarted
    /// simulator continues where it stopped. Without it, everything lives in memory.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// App record to serve, repeatable. APP_ID defaults to a stable number derived from the bundle
    /// id. Without any --app, `com.example.demo` exists; other bundle ids have no app record.
    #[arg(long = "app", value_name = "BUNDLE_ID[=APP_ID]")]
    pub apps: Vec<String>,

    /// Also trust this API key: KEY_ID=PEM, where PEM is the public key (or the .p8 private key)
    /// as text or as a file path. The simulator always trusts the key it generates.
    #[arg(long = "trust-key", value_name = "KEY_ID=PUBLIC_PEM_OR_PATH")]
    pub trust_keys: Vec<String>,

    /// Accept this Apple ID and app-specific password on the content-delivery sign-in (for
    /// `upload --apple-id`), repeatable. Test accounts only: the value is visible to the process list.
    #[arg(long = "apple-id", value_name = "EMAIL=PASSWORD")]
    pub apple_ids: Vec<String>,

    /// Fraction (0.0–1.0) of part uploads answered with 503/500 without storing them.
    #[arg(long, value_name = "F", default_value_t = 0.0, value_parser = parse_rate)]
    pub fail_part_rate: f64,

    /// After N API requests, answer the next 2 with 429 RATE_LIMIT_EXCEEDED (Retry-After: 1),
    /// then recover; repeats every N requests.
    #[arg(long, value_name = "N")]
    pub rate_limit_after: Option<u64>,

    /// Apply the first upload commit (PATCH buildUploadFiles) but close the connection without
    /// answering, once: tests that the client reconciles instead of replaying.
    #[arg(long)]
    pub drop_commit_response: bool,

    /// Answer `sourceFileChecksums.file: null` after a commit, keeping only `composite` (what
    /// Apple answers clients that send no checksum): tests re-run detection without the echo.
    #[arg(long)]
    pub omit_file_checksum: bool,

    /// Refuse tokens whose `iat` is older than SECS (proves the client mints fresh tokens).
    #[arg(long, value_name = "SECS")]
    pub token_max_age: Option<u64>,

    /// Seconds from the upload commit to the processing verdict (the build appears halfway).
    #[arg(long, value_name = "S", default_value_t = 3.0, value_parser = parse_seconds)]
    pub processing_seconds: f64,

    /// Processing verdict: valid, invalid, or failed:CODE (e.g. failed:90725, SDK too old).
    #[arg(long, value_name = "RESULT", default_value = "valid")]
    pub processing_result: ProcessingResult,

    /// Delay added to every response, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,

    /// Seed for the random choices (which parts fail, part order), for reproducible runs.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,

    /// The TestFlight scene (boxed: it keeps the CLI's command enum small).
    #[command(flatten)]
    pub testflight: Box<TestFlightArgs>,

    /// The App Store scene (versions' metadata, a submission in flight, review pace).
    #[command(flatten)]
    pub app_store: Box<crate::sim_cli::app_store_scene_args::AppStoreSceneArgs>,
}

/// Flags that set the TestFlight scene.
#[derive(Debug, Args)]
pub struct TestFlightArgs {
    /// Beta group, repeatable. internal-all = internal group with access to all builds (every
    /// VALID build is in it; explicit assignment gets Apple's 422).
    #[arg(long = "group", value_name = "[BUNDLE_ID:]NAME=internal|internal-all|external")]
    pub groups: Vec<GroupSeed>,

    /// Beta tester of the app, repeatable.
    #[arg(long = "tester", value_name = "[BUNDLE_ID:]EMAIL")]
    pub testers: Vec<TesterSeed>,

    /// autoNotifyEnabled of new builds' buildBetaDetail (on: POST buildBetaNotifications is
    /// refused with STATE_ERROR.ENTITY_STATE_INVALID).
    #[arg(long, value_name = "on|off", default_value = "off", value_parser = parse_on_off, action = clap::ArgAction::Set)]
    pub auto_notify: bool,

    /// Whether the apps' Beta App Review Information (contact name, phone, email) and en-US Beta
    /// App Information (feedback email, description) are filled in; missing makes
    /// POST betaAppReviewSubmissions fail with 422s naming each gap.
    #[arg(long, value_name = "complete|missing", default_value = "complete", value_parser = parse_review, action = clap::ArgAction::Set)]
    pub beta_review_details: bool,

    /// Pre-existing build (with its upload, pre-release version and beta detail), repeatable;
    /// state: valid (default), no-compliance, invalid, processing, expired.
    #[arg(long = "seed-build", value_name = "[BUNDLE_ID:]VERSION=BUILD[:STATE][/PLATFORM]")]
    pub seed_builds: Vec<BuildSeed>,

    /// ITMS code processing reports as a warning (state.warnings) on builds it finds valid,
    /// repeatable, e.g. 91053 (missing privacy-manifest API reasons) or 90725 (SDK soon too old).
    #[arg(long = "processing-warning", value_name = "CODE", value_parser = parse_code)]
    pub processing_warnings: Vec<String>,
}

fn parse_on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("'{s}' is not on or off")),
    }
}

fn parse_review(s: &str) -> Result<bool, String> {
    match s {
        "complete" => Ok(true),
        "missing" => Ok(false),
        _ => Err(format!("'{s}' is not complete or missing")),
    }
}

fn parse_code(s: &str) -> Result<String, String> {
    let code = s.strip_prefix("ITMS-").unwrap_or(s);
    if !code.is_empty() && code.len() <= 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code.to_owned())
    } else {
        Err(format!("'{s}' is not an ITMS code such as 91053"))
    }
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(format!("'{s}' is not a fraction between 0.0 and 1.0")),
    }
}

fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if f.is_finite() && (0.0..=86_400.0).contains(&f) => Ok(f),
        _ => Err(format!("'{s}' is not a number of seconds between 0 and 86400")),
    }
}

/// A stable 10-digit app id for a bundle id, so restarts and reruns agree.
fn derived_app_id(bundle_id: &str) -> String {
    // FNV-1a: tiny, stable across Rust versions (unlike DefaultHasher).
    let hash = bundle_id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("6{:09}", hash % 1_000_000_000)
}

fn config(args: SimArgs) -> Result<SimConfig, Error> {
    let mut apps = Vec::new();
    for a in &args.apps {
        let (bundle, id) = match a.split_once('=') {
            Some((b, id)) => (b.trim().to_owned(), id.trim().to_owned()),
            None => (a.trim().to_owned(), derived_app_id(a.trim())),
        };
        if bundle.is_empty() || id.is_empty() {
            return Err(
                Error::usage(format!("--app '{a}' is not BUNDLE_ID or BUNDLE_ID=APP_ID"))
                    .with_hint("e.g. --app com.example.demo=6450000001"),
            );
        }
        apps.push((bundle, id));
    }
    let mut trusted_keys = Vec::new();
    for k in &args.trust_keys {
        let Some((kid, pem)) = k
            .split_once('=')
            .filter(|(kid, pem)| !kid.is_empty() && !pem.is_empty())
        else {
            return Err(Error::usage("--trust-key needs KEY_ID=PUBLIC_PEM_OR_PATH")
                .with_hint("e.g. --trust-key 2X9R4HXF34=./AuthKey_2X9R4HXF34.pub.pem"));
        };
        trusted_keys.push((kid.to_owned(), pem.to_owned()));
    }
    let mut apple_ids = Vec::new();
    for a in &args.apple_ids {
        let Some((email, password)) = a.split_once('=').filter(|(e, p)| e.contains('@') && !p.is_empty()) else {
            return Err(Error::usage("--apple-id needs EMAIL=PASSWORD")
                .with_hint("e.g. --apple-id dev@example.com=abcd-efgh-ijkl-mnop"));
        };
        apple_ids.push((email.trim().to_owned(), password.to_owned()));
    }
    let tf = *args.testflight;
    Ok(SimConfig {
        app_store: args.app_store.scene(),
        apple_ids,
        listen: args.listen,
        state_dir: args.state_dir,
        apps,
        trusted_keys,
        faults: Faults {
            fail_part_rate: args.fail_part_rate,
            rate_limit_after: args.rate_limit_after,
            drop_commit_response: args.drop_commit_response,
            omit_file_checksum: args.omit_file_checksum,
            token_max_age: args.token_max_age.map(Duration::from_secs),
            latency: Duration::from_millis(args.latency_ms),
            seed: args.seed,
            ..Faults::default()
        },
        processing: Processing {
            duration: Duration::from_secs_f64(args.processing_seconds),
            result: args.processing_result,
        },
        verbose: true,
        testflight: TestFlightConfig {
            groups: tf.groups,
            testers: tf.testers,
            auto_notify: tf.auto_notify,
            beta_review_details: tf.beta_review_details,
            builds: tf.seed_builds,
            processing_warnings: tf.processing_warnings,
        },
        ..SimConfig::default()
    })
}

pub fn run(args: SimArgs) -> Result<i32, Error> {
    let config = config(args)?;
    asc_publish::runtime::build(asc_publish::runtime::Threads::Fixed(2))?.block_on(async move {
        let handle = Simulator::start(config).await.map_err(super::sim_error)?;
        // Built by hand to keep the documented key order (serde_json maps sort their keys).
        let line = format!(
            "{{\"api_url\":{},\"key_id\":{},\"issuer_id\":{},\"private_key_path\":{}}}",
            Value::from(handle.api_url.as_str()),
            Value::from(handle.key_id.as_str()),
            Value::from(handle.issuer_id.as_str()),
            Value::from(handle.private_key_path.to_string_lossy().as_ref()),
        );
        println!("{line}");
        eprint_redacted(&format!(
            "sim: App Store Connect simulator listening on {}\n",
            handle.api_url
        ));
        wait_for_signal().await;
        eprint_redacted("sim: shutting down\n");
        handle.shutdown().await;
        Ok(asc_publish::ExitCode::Success.code())
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_ids_are_stable_and_apple_shaped() {
        let a = derived_app_id("com.example.other");
        assert_eq!(a, derived_app_id("com.example.other"));
        assert_eq!(a.len(), 10);
        assert!(a.bytes().all(|b| b.is_ascii_digit()));
    }

    #[test]
    fn rates_and_results_parse() {
        assert!(parse_rate("0.3").is_ok());
        assert!(parse_rate("1.5").is_err());
        assert_eq!(
            "failed:90725".parse::<ProcessingResult>(),
            Ok(ProcessingResult::Failed("90725".into()))
        );
        assert!("failed:".parse::<ProcessingResult>().is_err());
        assert!("weird".parse::<ProcessingResult>().is_err());
    }

    #[test]
    fn testflight_flags_parse() {
        assert_eq!(parse_on_off("on"), Ok(true));
        assert!(parse_on_off("yes").is_err());
        assert_eq!(parse_review("missing"), Ok(false));
        assert_eq!(parse_code("ITMS-91053"), Ok("91053".into()));
        assert!(parse_code("abc").is_err());
    }
}
