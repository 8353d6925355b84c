//! Sample builder: pki (being written).
