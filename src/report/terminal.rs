//! The terminal's progress: the pipeline's events as lines on stderr (stdout carries the
//! command's own output), redacted like every line there.

use std::sync::Arc;

use crate::publish::events::{Event, EventSink, Events};

/// Prints each event's line on stderr.
#[derive(Debug, Default, Clone, Copy)]
pub struct Terminal;

impl EventSink for Terminal {
    fn event(&self, event: Event) {
        crate::output::eprintln_redacted!("{}", event.line());
    }
}

/// The run's events on the terminal, or nowhere when `quiet`.
pub fn events(quiet: bool) -> Events {
    if quiet {
        Events::none()
    } else {
        Events::to(Arc::new(Terminal))
    }
}
