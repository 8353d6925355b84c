//! `--deep`: verify code-signature seals (CodeResources and CodeDirectory hashes, ITMS-90035).
//! Reads whole entries; only run when asked.
//!
//! STUB: being written.

use crate::validate::Finding;
use crate::validate::context::RuleContext;

pub fn check(_ctx: &RuleContext, _out: &mut Vec<Finding>) {}
