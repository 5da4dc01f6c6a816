//! The integration test binary: one module per area.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod util;

mod bad_input;
mod corpus;
mod foundation;
mod sample;
mod tui;
