//! Sample builder: ipa (being written).
