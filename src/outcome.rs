//! The outcome of a run: the one serialisable result every reporter renders (being written).
