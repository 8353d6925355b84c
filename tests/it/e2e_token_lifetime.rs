//! Long processing waits never end in 401: the client and the simulator share one virtual clock, so
//! a 45-minute wait (longer than any token may live) runs in moments.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::support::e2e::World;
use asc_publish::asc::Env;
use asc_publish::asc::clock::Sleep;
use asc_publish::cli::{Cli, Command};
use asc_publish::outcome::{Outcome, Status};
use asc_publish::sample::app::SampleApp;
use asc_sim::{Faults, Processing, ProcessingResult, SimConfig};
use clap::Parser;

/// Time that moves only when someone sleeps: the client's sleeps advance it, the simulator reads it.
#[derive(Debug, Clone)]
struct VirtualTime(Arc<Mutex<SystemTime>>);

impl VirtualTime {
    fn new() -> Self {
        VirtualTime(Arc::new(Mutex::new(SystemTime::now())))
    }
}

impl asc_publish::asc::Clock for VirtualTime {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
    fn sleep(&self, d: Duration) -> Sleep {
        *self.0.lock().unwrap() += d;
        Box::pin(tokio::task::yield_now())
    }
}

async fn long_wait(token_max_age: Option<Duration>) -> (World, Outcome, Result<(), asc_publish::Error>, Duration) {
    let time = VirtualTime::new();
    let w = World::start(SimConfig {
        clock: Arc::new(time.clone()),
        processing: Processing {
            duration: Duration::from_secs(45 * 60),
            result: ProcessingResult::Valid,
        },
        faults: Faults {
            token_max_age,
            ..Faults::default()
        },
        ..SimConfig::default()
    })
    .await;
    let ipa = w.ipa("Demo.ipa", SampleApp::default());
    let mut argv = vec!["asc-publish".to_string()];
    argv.extend(w.upload_args(&ipa, &["--timeout", "2h", "--poll-interval", "5s"]));
    let Command::Upload(args) = Cli::try_parse_from(argv).unwrap().command else {
        unreachable!()
    };
    let start = asc_publish::asc::Clock::now(&time);
    let mut outcome = Outcome::new();
    let r = asc_publish::cli::upload::run_with(&args, &Env::from_pairs([]), Arc::new(time.clone()), &mut outcome).await;
    let waited = asc_publish::asc::Clock::now(&time)
        .duration_since(start)
        .unwrap_or_default();
    (w, outcome, r, waited)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_45_minute_wait_re_mints_tokens_before_they_expire() {
    let (w, outcome, r, waited) = long_wait(None).await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(outcome.status, Status::Success);
    assert_eq!(outcome.processing_state.as_deref(), Some("VALID"));
    assert!(
        waited >= Duration::from_secs(45 * 60),
        "the wait outlived any token: {waited:?}"
    );
    let refused: Vec<_> = w.sim.requests().into_iter().filter(|r| r.status == 401).collect();
    assert!(refused.is_empty(), "no token was ever refused: {refused:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_refused_for_age_mid_wait_are_re_minted_and_the_run_succeeds() {
    // The simulator refuses tokens older than 2 minutes, far shorter than the wait.
    let (w, outcome, r, waited) = long_wait(Some(Duration::from_secs(120))).await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(outcome.status, Status::Success);
    assert!(waited > Duration::from_secs(120));
    // The run crossed the simulator's age limit many times over and still never failed.
    assert!(w.sim.requests().iter().filter(|r| r.path.starts_with("/v1/")).count() > 10);
}

/// `distribute` of a build Apple is still processing waits through the one processing wait: its
/// schedule (a poll at least every 45 s), token re-minting across a 20-minute wait, and Apple's
/// verdict in the outcome.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distribute_waits_for_a_processing_build_with_the_processing_wait() {
    let time = VirtualTime::new();
    let w = World::start(SimConfig {
        clock: Arc::new(time.clone()),
        processing: Processing {
            duration: Duration::from_secs(45 * 60),
            result: ProcessingResult::Valid,
        },
        faults: Faults {
            token_max_age: Some(Duration::from_secs(120)),
            ..Faults::default()
        },
        ..SimConfig::default()
    })
    .await;
    let sample = SampleApp::default();
    let (short, number) = (sample.short_version.clone(), sample.version.clone());
    let ipa = w.ipa("Demo.ipa", sample);
    let mut argv = vec!["asc-publish".to_string()];
    argv.extend(w.upload_args(&ipa, &["--no-wait"]));
    let Command::Upload(args) = Cli::try_parse_from(argv).unwrap().command else {
        unreachable!()
    };
    let mut uploaded = Outcome::new();
    let r =
        asc_publish::cli::upload::run_with(&args, &Env::from_pairs([]), Arc::new(time.clone()), &mut uploaded).await;
    assert!(r.is_ok(), "{r:?}");
    let app_id = uploaded.app_id.clone().expect("app id");
    // Past halfway the build record exists, still PROCESSING.
    *time.0.lock().unwrap() += Duration::from_secs(25 * 60);

    let conn = &w.upload_args(&ipa, &[])[4..12];
    let mut argv: Vec<String> = ["asc-publish", "distribute", "--format", "json"]
        .map(String::from)
        .to_vec();
    argv.extend(conn.iter().cloned());
    argv.extend(
        [
            "--version",
            &short,
            "--build-number",
            &number,
            "--app-id",
            &app_id,
            "--timeout",
            "1h",
            "--poll-interval",
            "5s",
        ]
        .map(String::from),
    );
    let Command::Distribute(args) = Cli::try_parse_from(argv).unwrap().command else {
        unreachable!()
    };
    let client =
        asc_publish::cli::connection_args::connect(&args.connection, &Env::from_pairs([]), Arc::new(time.clone()))
            .unwrap()
            .api;
    let start = asc_publish::asc::Clock::now(&time);
    let mut outcome = Outcome::new();
    let r = asc_publish::cli::distribute::run_with(&client, &args, &Env::from_pairs([]), &mut outcome).await;
    let waited = asc_publish::asc::Clock::now(&time).duration_since(start).unwrap();
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(outcome.status, Status::Success);
    assert_eq!(outcome.processing_state.as_deref(), Some("VALID"));
    assert!(waited >= Duration::from_secs(19 * 60), "{waited:?}");
    let build = outcome.build_id.clone().unwrap();
    let polls = w
        .sim
        .requests()
        .into_iter()
        .filter(|q| q.method == "GET" && q.path == format!("/v1/builds/{build}") && q.status == 200)
        .count();
    let most_apart = Duration::from_secs(45);
    assert!(
        polls as u32 >= (waited.as_secs() / most_apart.as_secs()) as u32,
        "{polls} polls in {waited:?}"
    );
}

/// `upload --release --wait-for-review` through an hour of App Review (two 30-minute stages) while
/// the simulator refuses tokens older than 2 minutes: the review wait re-mints like processing's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_hour_long_review_wait_re_mints_tokens_and_ends_approved() {
    let time = VirtualTime::new();
    let w = World::start(SimConfig {
        clock: Arc::new(time.clone()),
        processing: Processing {
            duration: Duration::from_secs(30),
            result: ProcessingResult::Valid,
        },
        faults: Faults {
            token_max_age: Some(Duration::from_secs(120)),
            ..Faults::default()
        },
        app_store: asc_sim::AppStoreScene {
            review_time: Duration::from_secs(30 * 60),
            ..Default::default()
        },
        ..SimConfig::default()
    })
    .await;
    let ipa = w.ipa("Demo.ipa", SampleApp::default());
    let mut argv = vec!["asc-publish".to_string()];
    argv.extend(w.upload_args(
        &ipa,
        &[
            "--poll-interval",
            "5s",
            "--release",
            "--whats-new",
            "Faster.",
            "--wait-for-review",
        ],
    ));
    let Command::Upload(args) = Cli::try_parse_from(argv).unwrap().command else {
        unreachable!()
    };
    let start = asc_publish::asc::Clock::now(&time);
    let mut outcome = Outcome::new();
    let r = asc_publish::cli::upload::run_with(&args, &Env::from_pairs([]), Arc::new(time.clone()), &mut outcome).await;
    let waited = asc_publish::asc::Clock::now(&time)
        .duration_since(start)
        .unwrap_or_default();
    assert!(r.is_ok(), "{:?}", r.err().map(|e| e.message().to_string()));
    let rel = outcome.release.expect("released");
    assert_eq!(rel.submission_state.as_deref(), Some("COMPLETE"));
    assert_eq!(rel.version_state.as_deref(), Some("READY_FOR_DISTRIBUTION"));
    assert!(waited >= Duration::from_secs(60 * 60), "{waited:?}");
    assert!(
        w.sim
            .requests()
            .iter()
            .filter(|r| r.path.starts_with("/v1/reviewSubmissions/"))
            .count()
            > 20,
        "polled through the review"
    );
    assert!(
        w.sim.requests().iter().any(|r| r.status == 401),
        "the simulator refused aged tokens on the way (and the client re-minted them)"
    );
}
