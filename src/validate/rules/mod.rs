//! The rules, grouped by what they look at. Each module exposes
//! `pub fn check(ctx: &RuleContext, out: &mut Vec<Finding>)`.

pub mod archive;
pub mod codesign;
pub mod icons;
pub mod info_plist;
pub mod mac_pkg;
pub mod macho;
pub mod nested;
pub mod platform;
pub mod privacy;
pub mod profile;
pub mod sdk;
