//! `release` and `release status` in-process through the distribute harness's OpenAPI-checking
//! proxy, on a scene with seeded builds and an App Store scene.

use std::sync::Arc;

use asc_publish::Error;
use asc_publish::asc::Env;
use asc_publish::asc::clock::SystemClock;
use asc_publish::cli::release::ReleaseAction;
use asc_publish::cli::{Cli, Command as Sub};
use asc_publish::outcome::Outcome;
use asc_sim::{AppStoreScene, SimConfig};
use clap::Parser;

use crate::support::distribute::{World, scene};

/// Builds 1.0.0 (40 and 43 valid, 41 without export compliance, 42 invalid) on the demo app.
pub fn release_scene(app_store: AppStoreScene) -> SimConfig {
    SimConfig {
        app_store,
        ..scene(|tf| {
            tf.builds = ["1.0.0=40", "1.0.0=41:no-compliance", "1.0.0=42:invalid", "1.0.0=43"]
                .iter()
                .map(|s| s.parse().unwrap())
                .collect();
        })
    }
}

impl World {
    fn release_cli(&self, args: &[&str]) -> Cli {
        let mut argv: Vec<String> = vec!["asc-publish".into(), "release".into()];
        argv.extend(args.iter().map(|s| s.to_string()));
        argv.extend(self.conn());
        argv.extend(["--poll-interval".into(), "100ms".into()]);
        Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{e}"))
    }

    pub async fn release(&self, args: &[&str]) -> (Result<(), Error>, Outcome) {
        let Sub::Release(a) = self.release_cli(args).command else {
            unreachable!()
        };
        let client =
            asc_publish::cli::connection_args::connect(&a.submit.connection, &Env::default(), Arc::new(SystemClock))
                .unwrap()
                .api;
        let mut outcome = Outcome::new();
        let r = asc_publish::cli::release::run_with(&client, &a.submit, &mut outcome).await;
        (r, outcome)
    }

    pub async fn release_status(&self, args: &[&str]) -> (Result<(), Error>, Outcome) {
        let mut argv: Vec<String> = vec!["asc-publish".into(), "release".into(), "status".into()];
        argv.extend(args.iter().map(|s| s.to_string()));
        argv.extend(self.conn());
        let Sub::Release(a) = Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{e}")).command else {
            unreachable!()
        };
        let Some(ReleaseAction::Status(s)) = &a.action else {
            unreachable!()
        };
        let client = asc_publish::cli::connection_args::connect(&s.connection, &Env::default(), Arc::new(SystemClock))
            .unwrap()
            .api;
        let mut outcome = Outcome::new();
        let r = asc_publish::cli::release::status_with(&client, s, &mut outcome).await;
        (r, outcome)
    }
}
