//! Sample builder: macho (being written).
