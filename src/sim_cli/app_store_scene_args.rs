//! `asc-publish sim` flags that set the App Store scene (`asc-publish release` meets it).

use std::time::Duration;

use clap::Args;

use asc_sim::{AppStoreScene, IN_FLIGHT_SCENES, MissingMetadata, ReviewVerdict};

#[derive(Debug, Clone, Args)]
pub struct AppStoreSceneArgs {
    /// App Store metadata the apps lack, comma-separated: screenshots, description, keywords,
    /// support-url, copyright, review-contact. Adding a version to a review submission is then
    /// refused with Apple's 409 naming each gap.
    #[arg(long = "app-store-missing", value_name = "FIELDS", value_delimiter = ',')]
    pub missing: Vec<MissingMetadata>,
    /// A review submission already with Apple for version 0.9.1 of every app, in this state
    /// (WAITING_FOR_REVIEW, IN_REVIEW or UNRESOLVED_ISSUES); it stays there until cancelled.
    #[arg(long = "review-in-flight", value_name = "STATE", value_parser = parse_in_flight)]
    pub in_flight: Option<String>,
    /// How long each App Review stage (waiting, in review) lasts, in seconds.
    #[arg(long = "review-seconds", value_name = "S", default_value_t = 2.0, value_parser = parse_stage)]
    pub review_seconds: f64,
    /// How App Review ends: approve or reject.
    #[arg(long = "review-verdict", value_name = "approve|reject", default_value = "approve", value_parser = parse_verdict)]
    pub verdict: ReviewVerdict,
}

impl AppStoreSceneArgs {
    pub fn scene(&self) -> AppStoreScene {
        AppStoreScene {
            missing: self.missing.clone(),
            in_flight: self.in_flight.clone(),
            review_time: Duration::from_secs_f64(self.review_seconds),
            verdict: self.verdict,
        }
    }
}

fn parse_in_flight(s: &str) -> Result<String, String> {
    if IN_FLIGHT_SCENES.contains(&s) {
        Ok(s.to_owned())
    } else {
        Err(format!("'{s}' is not one of {}", IN_FLIGHT_SCENES.join(", ")))
    }
}

fn parse_stage(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if f.is_finite() && (0.0..=86_400.0).contains(&f) => Ok(f),
        _ => Err(format!("'{s}' is not a number of seconds between 0 and 86400")),
    }
}

fn parse_verdict(s: &str) -> Result<ReviewVerdict, String> {
    match s {
        "approve" => Ok(ReviewVerdict::Approve),
        "reject" => Ok(ReviewVerdict::Reject),
        _ => Err(format!("'{s}' is not approve or reject")),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use crate::sim_cli::{Cli, Command};
    use asc_sim::{MissingMetadata, ReviewVerdict};

    #[test]
    fn the_sim_takes_the_app_store_scene() {
        let cli = Cli::try_parse_from([
            "asc-publish",
            "sim",
            "--app-store-missing",
            "screenshots,review-contact",
            "--review-in-flight",
            "IN_REVIEW",
            "--review-seconds",
            "0.5",
            "--review-verdict",
            "reject",
        ])
        .unwrap();
        let Command::Sim(a) = cli.command else { unreachable!() };
        let scene = a.app_store.scene();
        assert_eq!(
            scene.missing,
            [MissingMetadata::Screenshots, MissingMetadata::ReviewContact]
        );
        assert_eq!(scene.in_flight.as_deref(), Some("IN_REVIEW"));
        assert_eq!(scene.review_time.as_millis(), 500);
        assert_eq!(scene.verdict, ReviewVerdict::Reject);
        for bad in [
            &["--app-store-missing", "icons"][..],
            &["--review-in-flight", "COMPLETE"],
            &["--review-verdict", "maybe"],
        ] {
            let mut argv = vec!["asc-publish", "sim"];
            argv.extend_from_slice(bad);
            assert!(Cli::try_parse_from(argv).is_err(), "{bad:?}");
        }
    }
}
