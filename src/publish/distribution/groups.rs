//! Beta groups: list the app's groups, resolve `--groups` names or ids, and add the build to each,
//! recording every group's result so a partial success is visible.

use crate::asc::error::{AscError, sanitize};
use crate::asc::records::BetaGroupRecord as BetaGroup;
use crate::asc::{AscClient, beta_testing};
use crate::error::Error;
use crate::outcome::{GroupKind, GroupOutcome, GroupResult};
use crate::publish::distribution::{Distributed, DistributionError};
use crate::publish::events::Events;

/// A requested group, found.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedGroup {
    pub id: String,
    pub name: String,
    pub kind: GroupKind,
}

/// The app's beta groups.
pub async fn list(client: &AscClient, app_id: &str) -> Result<Vec<BetaGroup>, Error> {
    Ok(beta_testing::groups_of_app(client, app_id).await?)
}

fn name_of(g: &BetaGroup) -> String {
    sanitize(g.name.as_deref().unwrap_or(&g.id))
}

/// internal / internal-all / external from the group's attributes.
pub fn kind_of(g: &BetaGroup) -> GroupKind {
    match (
        g.is_internal.unwrap_or(false),
        g.has_access_to_all_builds.unwrap_or(false),
    ) {
        (true, true) => GroupKind::InternalAll,
        (true, false) => GroupKind::Internal,
        (false, _) => GroupKind::External,
    }
}

/// Matches each request by id, else by name ignoring case. Unknown names are reported together,
/// with the groups that exist; a name matching two groups is ambiguous.
pub fn resolve(requested: &[String], all: &[BetaGroup]) -> Result<Vec<ResolvedGroup>, DistributionError> {
    let mut out: Vec<ResolvedGroup> = Vec::new();
    let mut unknown = Vec::new();
    for r in requested.iter().map(|r| r.trim()).filter(|r| !r.is_empty()) {
        let by_id: Vec<&BetaGroup> = all.iter().filter(|g| g.id == r).collect();
        let matches: Vec<&BetaGroup> = if by_id.is_empty() {
            all.iter()
                .filter(|g| name_of(g).to_lowercase() == r.to_lowercase())
                .collect()
        } else {
            by_id
        };
        match matches.as_slice() {
            [] => unknown.push(format!("'{}'", sanitize(r))),
            [g] => {
                if !out.iter().any(|o| o.id == g.id) {
                    out.push(ResolvedGroup {
                        id: g.id.clone(),
                        name: name_of(g),
                        kind: kind_of(g),
                    });
                }
            }
            many => {
                return Err(DistributionError::AmbiguousGroup {
                    name: sanitize(r),
                    matches: many
                        .iter()
                        .map(|g| format!("{} (id {})", name_of(g), g.id))
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
    }
    if !unknown.is_empty() {
        let existing = if all.is_empty() {
            "none".to_string()
        } else {
            all.iter()
                .map(|g| format!("{} ({})", name_of(g), kind_name(kind_of(g))))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(DistributionError::UnknownGroups {
            names: unknown.join(", "),
            existing,
        });
    }
    // Internal before external: internal testers never wait on a review.
    out.sort_by_key(|g| g.kind == GroupKind::External);
    Ok(out)
}

pub fn kind_name(k: GroupKind) -> &'static str {
    match k {
        GroupKind::Internal => "internal",
        GroupKind::InternalAll => "internal, all builds",
        GroupKind::External => "external",
    }
}

/// The ids of the groups the build is already in.
async fn groups_of_build(client: &AscClient, build_id: &str) -> Result<Vec<String>, Error> {
    let groups = beta_testing::groups_of_build(client, build_id).await?;
    Ok(groups.into_iter().map(|g| g.id).collect())
}

/// Adds the build to each group, one request per group so each result is its own.
pub async fn add(
    client: &AscClient,
    build_id: &str,
    groups: &[ResolvedGroup],
    events: &Events,
    done: &mut Distributed,
) -> Result<(), Error> {
    let already = groups_of_build(client, build_id).await?;
    for g in groups {
        let (result, message) = if g.kind == GroupKind::InternalAll {
            (
                GroupResult::Skipped,
                Some("internal group with access to all builds: it gets every VALID build by itself".to_string()),
            )
        } else if already.contains(&g.id) {
            (GroupResult::Already, None)
        } else {
            match beta_testing::add_to_group(client, build_id, &g.id).await {
                Ok(_) => (GroupResult::Added, None),
                // Apple's answer for an all-builds group whose flag we did not see.
                Err(AscError::Api(a)) if a.status == 422 && a.has_code("ENTITY_UNPROCESSABLE") => (
                    GroupResult::Skipped,
                    Some(
                        "App Store Connect: builds cannot be assigned to this internal group (it has all builds)"
                            .into(),
                    ),
                ),
                Err(e) => (GroupResult::Failed, Some(e.to_string())),
            }
        };
        let verb = match result {
            GroupResult::Added => "added",
            GroupResult::Already => "already in",
            GroupResult::Skipped => "skipped",
            GroupResult::Failed => "FAILED",
        };
        events.step(format!(
            "  group {} ({}): {verb}{}",
            g.name,
            kind_name(g.kind),
            message.as_deref().map(|m| format!(" — {m}")).unwrap_or_default()
        ));
        done.groups.push(GroupOutcome {
            name: g.name.clone(),
            id: g.id.clone(),
            kind: g.kind,
            result,
            message,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(id: &str, name: &str, internal: bool, all: bool) -> BetaGroup {
        BetaGroup {
            id: id.into(),
            name: Some(name.into()),
            is_internal: Some(internal),
            has_access_to_all_builds: Some(all),
        }
    }

    fn all() -> Vec<BetaGroup> {
        vec![
            group("g1", "QA", true, false),
            group("g2", "Everyone", true, true),
            group("g3", "Public", false, false),
            group("g4", "Twins", false, false),
            group("g5", "twins", true, false),
        ]
    }

    #[test]
    fn resolves_by_name_ignoring_case_or_by_id_internal_first() {
        let r = resolve(&["public".into(), "g1".into(), "EVERYONE".into(), "QA".into()], &all()).unwrap();
        let got: Vec<(&str, GroupKind)> = r.iter().map(|g| (g.id.as_str(), g.kind)).collect();
        assert_eq!(
            got,
            [
                ("g1", GroupKind::Internal),
                ("g2", GroupKind::InternalAll),
                ("g3", GroupKind::External)
            ],
            "deduplicated, internal groups first"
        );
    }

    #[test]
    fn unknown_names_list_what_exists_and_ambiguous_names_fail() {
        let e = resolve(&["QA".into(), "Nope".into(), "Nada".into()], &all()).unwrap_err();
        let m = e.to_string();
        assert!(m.contains("'Nope', 'Nada'"), "{m}");
        assert!(m.contains("Everyone (internal, all builds)"), "{m}");
        let e = resolve(&["TWINS".into()], &all()).unwrap_err();
        assert!(matches!(e, DistributionError::AmbiguousGroup { .. }));
        assert!(e.to_string().contains("g4") && e.to_string().contains("g5"));
        // The id settles it.
        assert_eq!(resolve(&["g5".into()], &all()).unwrap()[0].name, "twins");
        let e = resolve(&["x".into()], &[]).unwrap_err();
        assert!(e.to_string().contains("its groups are: none"));
        let err: crate::Error = e.into();
        assert_eq!(err.exit_code(), 4);
    }
}
