//! The integration test binary: one module per area.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod podman;
mod registry;
