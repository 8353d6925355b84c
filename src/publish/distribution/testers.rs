//! Individual testers: look them up by email among the app's beta testers and give them the build.

use crate::asc::error::sanitize;
use crate::asc::{AscClient, beta_testing};
use crate::error::Error;
use crate::publish::distribution::Distributed;
use crate::publish::distribution::DistributionError;
use crate::publish::events::Events;

/// (email, tester id) for each email. Unknown emails fail together (exit 4): inviting a new tester
/// sends them an email, which a CI run should not do behind anyone's back.
pub async fn resolve(client: &AscClient, app_id: &str, emails: &[String]) -> Result<Vec<(String, String)>, Error> {
    let wanted: Vec<String> = emails
        .iter()
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty())
        .collect();
    let joined = wanted.join(",");
    let found = beta_testing::testers_by_email(client, app_id, &joined).await?;
    let mut out = Vec::new();
    let mut unknown = Vec::new();
    for e in &wanted {
        let hit = found
            .iter()
            .find(|t| t.email.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(e)));
        match hit {
            Some(t) => out.push((e.clone(), t.id.clone())),
            None => unknown.push(sanitize(e)),
        }
    }
    if !unknown.is_empty() {
        return Err(DistributionError::UnknownTesters {
            emails: unknown.join(", "),
        }
        .into());
    }
    Ok(out)
}

/// Gives the build to the testers in one request.
pub async fn add(
    client: &AscClient,
    build_id: &str,
    testers: &[(String, String)],
    events: &Events,
    done: &mut Distributed,
) -> Result<(), Error> {
    let ids: Vec<&str> = testers.iter().map(|(_, id)| id.as_str()).collect();
    beta_testing::add_testers(client, build_id, &ids).await?;
    for (email, _) in testers {
        events.step(format!("  tester {email}: added"));
        done.testers.push(email.clone());
    }
    Ok(())
}
