//! Rules: archive (STUB, being written).

use crate::validate::Finding;
use crate::validate::context::RuleContext;

pub fn check(_ctx: &RuleContext, _out: &mut Vec<Finding>) {}
