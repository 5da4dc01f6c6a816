//! Registry source end to end: a real registry (Debian's `docker-registry`) on 127.0.0.1,
//! images pushed with skopeo, the real binary reading them back. Skips with a note when
//! `docker-registry`, `skopeo` or `htpasswd` is missing. The harness (registry, proxy,
//! token front) is in `harness.rs`; the tests are split by concern.

mod harness;

mod auth;
mod cache;
mod faults;
mod identity;
mod pull;
