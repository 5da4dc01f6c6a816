//! The blob and layer cache behind registry pulls: second runs and shared layers come from
//! it, damage is refetched, and it stays under its limit (least recently used first).

use std::path::Path;

use super::harness::*;
use crate::util::assert_live_snapshot;

/// A registry holding [`fixture_pair`] as `a:1` and `b:1`, its home directory, the pair's
/// layouts and the digest of the layer the two share; `None` (the test skips) without a
/// registry.
type WithPair = (Registry, tempfile::TempDir, [std::path::PathBuf; 2], String);
fn registry_with_pair() -> Option<WithPair> {
    let (reg, home) = registry(false)?;
    let (a, b, shared) = fixture_pair(home.path());
    reg.push(&format!("oci:{}:latest", a.display()), "a:1", false);
    reg.push(&format!("oci:{}:latest", b.display()), "b:1", false);
    Some((reg, home, [a, b], shared))
}

#[test]
fn cache_serves_second_runs_and_shared_layers_and_refetches_damage() {
    let Some((reg, home, [_, b], shared)) = registry_with_pair() else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let cache_arg = ["--cache-dir", cache.path().to_str().unwrap()];
    let a_ref = format!("docker://{}/a:1", reg.host());
    let b_ref = format!("docker://{}/b:1", reg.host());

    let first = report(home.path(), &a_ref, &cache_arg);
    assert!(
        first.to_string().contains("root/.ssh/id_rsa"),
        "the key is found: {first}"
    );
    let gets = reg.blob_gets();
    assert_eq!(gets.len(), 2, "config and one layer: {gets:?}");

    // A second run downloads no blob at all (not even the config).
    let second = report(home.path(), &a_ref, &cache_arg);
    assert_eq!(second, first);
    assert_eq!(reg.blob_gets(), gets, "the second run hit the registry");

    // An image sharing the base layer downloads only its own config and layer.
    let before = reg.blob_gets().len();
    let rb = report(home.path(), &b_ref, &cache_arg);
    let new: Vec<String> = reg.blob_gets()[before..].to_vec();
    assert_eq!(new.len(), 2, "{new:?}");
    assert!(
        !new.contains(&shared),
        "the shared layer was downloaded again"
    );
    assert_eq!(
        rb,
        report(home.path(), &format!("oci:{}:latest", b.display()), &[])
    );

    // Damage the cached decode and blob of the shared layer: detected, fetched again.
    let hex = shared.trim_start_matches("sha256:");
    let v1 = cache.path().join("v1");
    for entry in [
        v1.join("layers/sha256").join(hex),
        v1.join("blobs/sha256").join(hex),
    ] {
        let mut bytes = std::fs::read(&entry).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x55;
        std::fs::write(&entry, bytes).unwrap();
    }
    let before = reg.blob_gets().len();
    let again = report(home.path(), &a_ref, &cache_arg);
    assert_eq!(again, first);
    assert_eq!(reg.blob_gets()[before..].to_vec(), vec![shared.clone()]);
    // … and the refetched entries are whole again.
    let third_before = reg.blob_gets().len();
    assert_eq!(report(home.path(), &a_ref, &cache_arg), first);
    assert_eq!(reg.blob_gets().len(), third_before);

    // --no-cache neither reads nor writes the cache.
    let empty = tempfile::tempdir().unwrap();
    let before = reg.blob_gets().len();
    report(
        home.path(),
        &a_ref,
        &["--no-cache", "--cache-dir", empty.path().to_str().unwrap()],
    );
    assert_eq!(reg.blob_gets().len(), before + 2);
    assert_eq!(std::fs::read_dir(empty.path()).unwrap().count(), 0);
}

/// Bytes of every entry in a cache directory.
fn cache_bytes(cache: &Path) -> u64 {
    ["blobs/sha256", "layers/sha256"]
        .iter()
        .flat_map(|sub| std::fs::read_dir(cache.join("v1").join(sub)).unwrap())
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

#[test]
fn cache_stays_under_its_limit_least_recently_used_first_and_can_be_pruned() {
    let Some((reg, home, _, shared)) = registry_with_pair() else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().to_str().unwrap();
    let a_ref = format!("docker://{}/a:1", reg.host());
    let b_ref = format!("docker://{}/b:1", reg.host());

    // Unlimited, both images fill the cache; note how much each takes.
    report(home.path(), &a_ref, &["--cache-dir", dir]);
    let after_a = cache_bytes(cache.path());
    report(home.path(), &b_ref, &["--cache-dir", dir]);
    let full = cache_bytes(cache.path());
    assert!(full > after_a && after_a > 0, "{after_a} {full}");

    // `cache info` reports what is there.
    let mut cmd = layersift(home.path());
    cmd.args(["cache", "--cache-dir", dir]);
    let r = run(cmd);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains(dir), "{}", r.stdout);
    assert!(r.stdout.contains("blobs   4 "), "{}", r.stdout);
    assert!(r.stdout.contains("layers  2 decoded"), "{}", r.stdout);

    // A run with a limit below the total trims the least recently used entries: using `a`
    // again makes `b`'s own entries the oldest, so they go and `a`'s stay.
    let limit = (full - 1).to_string();
    let before = reg.blob_gets().len();
    report(
        home.path(),
        &a_ref,
        &["--cache-dir", dir, "--cache-max-size", &limit],
    );
    assert_eq!(reg.blob_gets().len(), before, "a was served from the cache");
    assert!(cache_bytes(cache.path()) < full);
    let before = reg.blob_gets().len();
    report(home.path(), &a_ref, &["--cache-dir", dir]);
    assert_eq!(reg.blob_gets().len(), before, "a's entries were kept");
    let hex = shared.trim_start_matches("sha256:");
    assert!(cache.path().join("v1/layers/sha256").join(hex).exists());

    // `cache prune --max-size` and `--all`.
    let mut cmd = layersift(home.path());
    cmd.args(["cache", "prune", "--max-size", "1", "--cache-dir", dir]);
    let r = run(cmd);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("removed "), "{}", r.stdout);
    assert_eq!(cache_bytes(cache.path()), 0);
    let mut cmd = layersift(home.path());
    cmd.args(["cache", "prune", "--all", "--cache-dir", dir]);
    assert_eq!(run(cmd).code, 0);
    let mut cmd = layersift(home.path());
    cmd.args(["cache", "prune", "--max-size", "lots", "--cache-dir", dir]);
    let r = run(cmd);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_live_snapshot("cache_prune_bad_size", &[], &r.stderr);
}
