//! What the pipeline's stages say while they run, as events: a stage sends them to the run's
//! [`Events`] and never prints. The edge chooses where they go (the terminal's progress lines,
//! nowhere for a quiet run, a recorder in tests).

use std::fmt;
use std::sync::{Arc, Mutex};

use crate::outcome::Message;

/// One thing a stage has to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A step of the run for the person watching (`upload committed`, `  group QA: added`).
    Step(String),
    /// Apple's state of something changed (`upload` → `COMPLETE`, `build 123` → `VALID`).
    State { of: String, state: String },
    /// Apple said something about the build, with its ITMS code.
    Apple(Message),
    /// The processing wait is still waiting: at least one a minute, so CI logs never look hung.
    Heartbeat(String),
    /// Detail for `--verbose` (retries, the connection used, the rate-limit budget).
    Detail(String),
    /// A stage of the run begins (a CI log may fold it: GitLab's collapsible sections).
    StageStarted { name: &'static str, title: &'static str },
    /// The stage of that name ended, however it ended.
    StageEnded { name: &'static str },
}

impl Event {
    /// The event as the terminal's progress line (stage boundaries have none).
    pub fn line(&self) -> Option<String> {
        Some(match self {
            Event::Step(s) | Event::Heartbeat(s) | Event::Detail(s) => s.clone(),
            Event::State { of, state } => format!("  {of}: {state}"),
            Event::Apple(m) => format!(
                "  Apple {}: {}{}",
                m.level,
                m.code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default(),
                m.description
            ),
            Event::StageStarted { .. } | Event::StageEnded { .. } => return None,
        })
    }
}

/// Where a run's events go.
pub trait EventSink: Send + Sync {
    fn event(&self, event: Event);

    /// Whether progress lines are shown (a quiet sink may still fold stages).
    fn shows_progress(&self) -> bool {
        true
    }
}

/// The run's event stream, cheap to clone into every stage; nowhere by default.
#[derive(Clone, Default)]
pub struct Events(Option<Arc<dyn EventSink>>);

impl Events {
    /// Events go nowhere (a quiet run).
    pub fn none() -> Events {
        Events(None)
    }

    pub fn to(sink: Arc<dyn EventSink>) -> Events {
        Events(Some(sink))
    }

    /// Whether progress is shown: a stage skips work done only to be said (a progress bar).
    pub fn is_heard(&self) -> bool {
        self.0.as_ref().is_some_and(|s| s.shows_progress())
    }

    pub fn send(&self, event: Event) {
        if let Some(sink) = &self.0 {
            sink.event(event);
        }
    }

    pub fn step(&self, line: impl Into<String>) {
        self.send(Event::Step(line.into()));
    }

    /// Starts a stage; it ends when the returned guard is dropped (also on an early return).
    pub fn stage(&self, name: &'static str, title: &'static str) -> Stage {
        self.send(Event::StageStarted { name, title });
        Stage {
            events: self.clone(),
            name,
        }
    }
}

/// A running stage (see [`Events::stage`]).
#[must_use = "the stage ends when this is dropped"]
pub struct Stage {
    events: Events,
    name: &'static str,
}

impl Drop for Stage {
    fn drop(&mut self) {
        self.events.send(Event::StageEnded { name: self.name });
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "Events(on)" } else { "Events(none)" })
    }
}

/// Keeps every event, in order (tests, and callers that render later).
#[derive(Debug, Default)]
pub struct Recorder(Mutex<Vec<Event>>);

impl Recorder {
    pub fn events(&self) -> Vec<Event> {
        self.0.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

impl EventSink for Recorder {
    fn event(&self, event: Event) {
        if let Ok(mut e) = self.0.lock() {
            e.push(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_the_terminal_progress_lines() {
        let m = Message {
            level: "error".into(),
            code: Some("ITMS-90062".into()),
            description: "bad version".into(),
        };
        assert_eq!(
            Event::Apple(m).line().unwrap(),
            "  Apple error: ITMS-90062: bad version"
        );
        let s = Event::State {
            of: "build 7".into(),
            state: "VALID".into(),
        };
        assert_eq!(s.line().unwrap(), "  build 7: VALID");
        assert_eq!(Event::StageEnded { name: "x" }.line(), None);
    }

    #[test]
    fn a_quiet_run_sends_nowhere_and_a_recorder_keeps_order() {
        let none = Events::none();
        none.step("dropped");
        assert!(!none.is_heard());
        let rec = Arc::new(Recorder::default());
        let events = Events::to(rec.clone());
        events.step("one");
        events.send(Event::Heartbeat("two".into()));
        {
            let _stage = events.stage("s", "A stage");
            events.step("inside");
        }
        assert_eq!(
            rec.events(),
            [
                Event::Step("one".into()),
                Event::Heartbeat("two".into()),
                Event::StageStarted {
                    name: "s",
                    title: "A stage"
                },
                Event::Step("inside".into()),
                Event::StageEnded { name: "s" },
            ]
        );
    }
}
