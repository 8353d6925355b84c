//! Which kind of profile it is, decided the way Apple's tooling does (ipa-checks.md §2.3).

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProfileKind {
    AppStore,
    AdHoc,
    Development,
    Enterprise,
}

impl ProfileKind {
    /// First match wins: `get-task-allow` makes it development whatever else it says, then
    /// `ProvisionsAllDevices` (in-house), then a device list (ad hoc); nothing device-related left
    /// means App Store.
    pub fn classify(get_task_allow: bool, provisions_all_devices: bool, device_count: usize) -> ProfileKind {
        if get_task_allow {
            ProfileKind::Development
        } else if provisions_all_devices {
            ProfileKind::Enterprise
        } else if device_count > 0 {
            ProfileKind::AdHoc
        } else {
            ProfileKind::AppStore
        }
    }

    /// How Apple's portal names the kind, for messages.
    pub fn label(self) -> &'static str {
        match self {
            ProfileKind::AppStore => "App Store",
            ProfileKind::AdHoc => "Ad Hoc",
            ProfileKind::Development => "Development",
            ProfileKind::Enterprise => "Enterprise (In-House)",
        }
    }
}

impl std::fmt::Display for ProfileKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::ProfileKind::*;
    use super::*;

    #[test]
    fn follows_the_classification_table() {
        assert_eq!(ProfileKind::classify(false, false, 0), AppStore);
        assert_eq!(ProfileKind::classify(false, false, 3), AdHoc);
        assert_eq!(ProfileKind::classify(true, false, 3), Development);
        assert_eq!(ProfileKind::classify(true, false, 0), Development);
        assert_eq!(ProfileKind::classify(false, true, 0), Enterprise);
    }
}
