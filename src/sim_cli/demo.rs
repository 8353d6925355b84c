//! `asc-publish demo`: the whole pipeline against the built-in App Store Connect simulator, with a
//! sample IPA it builds itself. Each step runs the real subcommand (printed as a command line
//! first), so the demo shows exactly what a CI job prints.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use clap::{Args, Parser};

use asc_publish::error::{Error, ErrorKind, ExitCode};
use asc_publish::sample::app::SampleApp;
use asc_sim::{Processing, ProcessingResult, SimConfig, Simulator};

use super::{Cli, Command};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How long the simulated App Store Connect takes to process the build.
    #[arg(long, value_name = "SECS", default_value_t = 3)]
    pub processing_seconds: u64,
    /// The simulated processing verdict: valid, invalid, or failed:CODE (e.g. failed:90725) to see
    /// how a rejection looks.
    #[arg(long, value_name = "RESULT", default_value = "valid")]
    pub processing_result: ProcessingResult,
    /// Keep the sample IPA and its test root certificate in DIR instead of a temporary directory.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
    /// Go on to the App Store: submit the build for review (`upload --release`), wait for the
    /// simulated App Review, and show `release status`.
    #[arg(long)]
    pub release: bool,
}

/// What the simulator thread hands back once it listens.
struct Running {
    api_url: String,
    key_id: String,
    issuer_id: String,
    private_key_path: PathBuf,
}

pub fn run(args: DemoArgs) -> Result<i32, Error> {
    let temp = tempfile::tempdir()?;
    let dir = match &args.keep {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.clone()
        }
        None => temp.path().to_path_buf(),
    };
    println!("asc-publish demo: the whole pipeline against the built-in App Store Connect simulator.");
    println!("No Apple account is involved; the sample IPA is signed by a local test CA (NOT Apple),");
    println!("so validation is told to trust that CA with --extra-root-ca.\n");

    let ipa = dir.join("Demo.ipa");
    let sample = SampleApp::default().write_to(&ipa)?;
    let root_ca = dir.join("test-root-ca.pem");
    std::fs::write(&root_ca, sample.root_pem())?;

    let (stop, sim) = start_simulator(&args, &dir)?;
    println!("simulator listening at {}\n", sim.api_url);

    let ipa_s = ipa.display().to_string();
    let ca_s = root_ca.display().to_string();
    let conn = [
        "--api-url".to_string(),
        sim.api_url.clone(),
        "--key-id".into(),
        sim.key_id.clone(),
        "--issuer-id".into(),
        sim.issuer_id.clone(),
        "--private-key".into(),
        sim.private_key_path.display().to_string(),
    ];
    let mut steps: Vec<Vec<String>> = vec![
        vec!["inspect".into(), ipa_s.clone(), "--extra-root-ca".into(), ca_s.clone()],
        vec!["validate".into(), ipa_s.clone(), "--extra-root-ca".into(), ca_s.clone()],
        ["upload".into(), ipa_s, "--extra-root-ca".into(), ca_s]
            .into_iter()
            .chain(conn.iter().cloned())
            .chain(["--poll-interval".into(), "1s".into()])
            .collect(),
    ];
    if args.release {
        steps[2].extend(
            [
                "--release",
                "--whats-new",
                "First release, straight from CI.",
                "--release-type",
                "after-approval",
                "--phased-release",
                "on",
                "--wait-for-review",
            ]
            .map(String::from),
        );
        let mut status: Vec<String> = ["release", "status", "--bundle-id", asc_sim::DEFAULT_BUNDLE_ID]
            .map(String::from)
            .to_vec();
        status.extend(conn.iter().cloned());
        steps.push(status);
    }
    let mut code = ExitCode::Success.code();
    for step in steps {
        println!("$ asc-publish {}", shown(&step));
        code = run_step(&step)?;
        println!();
        if code != ExitCode::Success.code() {
            break;
        }
    }
    let _ = stop.send(());
    if code == 0 {
        println!("Done. Against the real App Store Connect, drop --api-url and --extra-root-ca and pass your");
        println!("API key (--key-id/--issuer-id/--private-key or ASC_KEY_ID/ASC_ISSUER_ID/ASC_PRIVATE_KEY).");
    }
    Ok(code)
}

/// Runs one subcommand exactly as the command line would; its errors are rendered as the real
/// binary renders them, and the exit code is returned.
fn run_step(step: &[String]) -> Result<i32, Error> {
    let argv = std::iter::once(OsString::from("asc-publish")).chain(step.iter().map(OsString::from));
    let cli = Cli::try_parse_from(argv).map_err(|e| Error::new(ErrorKind::Usage, format!("demo step: {e}")))?;
    if matches!(cli.command, Command::Demo(_)) {
        return Err(Error::usage("the demo cannot run itself"));
    }
    let format = cli.command.format();
    match super::run(cli) {
        Ok(code) => Ok(code),
        Err(e) => {
            asc_publish::cli::render::render_error(&e, format);
            Ok(e.exit_code())
        }
    }
}

/// The command line as a user would type it, with the key path shortened to its file name.
fn shown(step: &[String]) -> String {
    step.iter()
        .map(|a| {
            let p = Path::new(a);
            if p.is_absolute() && p.exists() {
                p.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| a.clone())
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Starts the simulator on its own thread and runtime (the subcommands build their own), and
/// returns a sender that stops it.
fn start_simulator(args: &DemoArgs, dir: &Path) -> Result<(mpsc::Sender<()>, Running), Error> {
    let config = SimConfig {
        processing: Processing {
            duration: Duration::from_secs(args.processing_seconds),
            result: args.processing_result.clone(),
        },
        state_dir: Some(dir.join("simulator")),
        app_store: asc_sim::AppStoreScene {
            review_time: Duration::from_secs(1),
            ..asc_sim::AppStoreScene::default()
        },
        ..SimConfig::default()
    };
    let (ready_tx, ready_rx) = mpsc::channel::<Result<Running, Error>>();
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        let rt = match asc_publish::runtime::build(asc_publish::runtime::Threads::Fixed(2)) {
            Ok(rt) => rt,
            Err(e) => {
                let _ = ready_tx.send(Err(e));
                return;
            }
        };
        rt.block_on(async move {
            match Simulator::start(config).await {
                Ok(handle) => {
                    let _ = ready_tx.send(Ok(Running {
                        api_url: handle.api_url.clone(),
                        key_id: handle.key_id.clone(),
                        issuer_id: handle.issuer_id.clone(),
                        private_key_path: handle.private_key_path.clone(),
                    }));
                    // Park until the demo is done; a dropped sender also stops it.
                    let _ = tokio::task::spawn_blocking(move || stop_rx.recv()).await;
                    handle.shutdown().await;
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(super::sim_error(e)));
                }
            }
        });
    });
    let running = ready_rx
        .recv()
        .map_err(|_| Error::usage("the simulator thread stopped before it listened"))??;
    Ok((stop_tx, running))
}
