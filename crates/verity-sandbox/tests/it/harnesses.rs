//! Harness behaviour on small hand-written cases.
