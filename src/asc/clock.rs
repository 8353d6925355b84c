//! The client's time source: the injectable [`Clock`] from the `asc-clock` crate, which the
//! simulator shares, re-exported where the client, the engine and the tests have always found it.

pub use asc_clock::{Clock, ManualClock, SharedClock, Sleep, SystemClock};
