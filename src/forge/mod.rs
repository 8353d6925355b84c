//! Pull/merge request reports (placeholder).
