//! The integration test binary: one module per area.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod util;

mod action;
mod analysis;
mod bad_input;
mod base_layers;
mod cache;
mod check;
mod ci;
mod content;
mod content_corpus;
mod content_tui;
mod corpus;
mod diff;
mod dockerfile;
mod firsthour;
mod fix_hunks;
mod foundation;
mod hardening;
mod html;
mod input_edges;
mod packages;
mod podman;
mod practices;
mod practices_outputs;
mod properties;
mod rebuild;
mod registry;
mod sample;
mod snippets;
mod trend;
mod tui;
mod tui_compare;
mod tui_explore;
mod tui_keys;
