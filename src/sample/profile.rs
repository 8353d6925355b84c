//! Sample builder: profile (being written).
