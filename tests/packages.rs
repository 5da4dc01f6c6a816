//! Packages: a tiny fixture image per database format (dpkg, apk, rpm, Python, npm, Go),
//! each with a corrupt database or a file owned twice; ownership, layers, findings, the
//! reports and `diff`. The corpus checks compare dpkg bytes with an independent Python count.

use std::collections::BTreeMap;
use std::process::Command;

use layersift::json::Report;
use layersift::Analysis;
use layersift::{Ecosystem, Package};
use layersift_fixture::packages as fixture_packages;
use layersift_fixture::{Format, ImageBuilder};

use crate::images::{npm_install, npm_package_json};
use crate::util::{analyze, bin, corpus, succeeded, write};

fn analyze_image(img: &layersift_fixture::BuiltImage) -> (Analysis, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let r = write(img, Format::OciLayout, dir.path());
    (analyze(&r).unwrap(), dir)
}

fn find<'a>(a: &'a Analysis, eco: Ecosystem, name: &str) -> &'a Package {
    a.packages
        .packages
        .iter()
        .find(|p| p.ecosystem == eco && p.name == name)
        .unwrap_or_else(|| panic!("{name} not found in {:#?}", a.packages.packages))
}

fn owner(a: &Analysis, path: &str) -> Option<String> {
    let owners = a.packages.owners_by_path(&a.indexes);
    owners
        .get(path)
        .map(|&i| a.packages.packages[i as usize].name.clone())
}

const STATUS_1: &str = "Package: bash\nStatus: install ok installed\nVersion: 5.2-1\nPre-Depends: libc6\n\n\
Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\n\n\
Package: curl\nStatus: install ok installed\nVersion: 7.88-1\nDepends: libc6 (>= 2.34), libcurl4 (= 7.88-1)\n\n\
Package: libcurl4\nStatus: install ok installed\nVersion: 7.88-1\nDepends: libc6\n\n\
Package: broken-no-version\nStatus: install ok installed\n\n\
Package: removed-pkg\nStatus: deinstall ok config-files\nVersion: 1\n";

/// The merged-/usr root filesystem layer of [`dpkg_image`].
fn rootfs(l: layersift_fixture::LayerBuilder) -> layersift_fixture::LayerBuilder {
    l.symlink("bin", "usr/bin")
        .file("usr/bin/bash", vec![1u8; 1000])
        .file("usr/bin/curl", vec![2u8; 300])
        .file("usr/lib/libc.so.6", vec![3u8; 5000])
        .file("usr/lib/libcurl.so.4", vec![4u8; 700])
        .file("usr/share/common", vec![5u8; 40])
        .file("var/lib/dpkg/status", STATUS_1)
        .file(
            "var/lib/dpkg/info/bash.list",
            "/.\n/bin\n/bin/bash\n/usr/share/common\n",
        )
        .file(
            "var/lib/dpkg/info/libc6:amd64.list",
            "/usr/lib/libc.so.6\n/usr/share/common\n",
        )
        .file(
            "var/lib/dpkg/info/curl.list",
            "/bin/curl\n/usr/share/missing\n",
        )
        .file(
            "var/lib/dpkg/info/libcurl4:amd64.list",
            "/usr/lib/libcurl.so.4\n",
        )
}

/// A merged-/usr Debian-like image: `/bin` is a symlink to `usr/bin`, lists name `/bin/…`;
/// `/usr/share/common` is listed by two packages; layer 1 upgrades libc6 and adds an
/// unowned application.
fn dpkg_image() -> layersift_fixture::BuiltImage {
    ImageBuilder::new()
        .layer("ADD rootfs.tar /", rootfs)
        .layer("RUN apt-get upgrade -y libc6", |l| {
            l.file("usr/lib/libc.so.6", vec![6u8; 5500]).file(
                "var/lib/dpkg/status",
                STATUS_1.replace("2.36-9\n", "2.36-9+deb12u1\n"),
            )
        })
        .layer("COPY app /app", |l| l.file("app/server", vec![7u8; 2222]))
        .build()
        .unwrap()
}

#[test]
fn dpkg_ownership_through_merged_usr_double_claims_and_layers() {
    let (a, _d) = analyze_image(&dpkg_image());
    let bash = find(&a, Ecosystem::Dpkg, "bash");
    assert_eq!(bash.version, "5.2-1");
    // /bin/bash resolves to /usr/bin/bash; /usr/share/common is claimed by bash and libc6
    // and goes to the first in name order (bash).
    assert_eq!((bash.bytes, bash.files), (1040, 2));
    assert_eq!(bash.depends, ["libc6"]);
    assert_eq!(owner(&a, "/usr/share/common").as_deref(), Some("bash"));
    let libc = find(&a, Ecosystem::Dpkg, "libc6");
    assert_eq!(
        libc.version, "2.36-9+deb12u1",
        "the visible status file counts"
    );
    assert_eq!((libc.bytes, libc.files), (5500, 1));
    assert_eq!((libc.layer, libc.changed_in.clone()), (0, vec![1]));
    let curl = find(&a, Ecosystem::Dpkg, "curl");
    assert_eq!(
        (curl.bytes, curl.depends.clone()),
        (300, vec!["libc6".to_string(), "libcurl4".to_string()])
    );
    assert!(a.packages.packages.iter().all(|p| p.name != "removed-pkg"));
    assert_eq!(a.packages.packages.len(), 4);
    // Largest first.
    assert_eq!(a.packages.packages[0].name, "libc6");

    // Unowned: the status file, the lists and the application, per top directory.
    let p = &a.packages;
    assert_eq!(p.owned_bytes + p.unowned_bytes, a.totals.visible);
    let app = p.unowned_by_dir.iter().find(|d| d.dir == "/app").unwrap();
    assert_eq!((app.bytes, app.files), (2222, 1));
    // The corrupt stanza is skipped and counted.
    assert_eq!(p.skipped.len(), 1);
    assert_eq!(p.skipped[0].path, "/var/lib/dpkg/status");
    assert_eq!(p.skipped[0].entries, 1);
    // Layer 1 upgraded libc6.
    let ch = &p.layer_changes;
    assert_eq!(ch[0].added.len(), 4);
    assert_eq!(ch[1].upgraded.len(), 1);
    assert_eq!(ch[1].upgraded[0].from, "2.36-9");
    assert!(ch[2].is_empty());
}

#[test]
fn reports_show_packages() {
    let img = dpkg_image();
    let dir = tempfile::tempdir().unwrap();
    let r = write(&img, Format::OciLayout, dir.path());
    let out = bin().args(["analyze", &r]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Largest packages (4 of 4;"), "{text}");
    assert!(text.contains("libc6 2.36-9+deb12u1"), "{text}");
    assert!(text.contains("Unowned"), "{text}");
    assert!(text.contains("/app 2.2 kB"), "{text}");
    assert!(
        text.contains("1 unreadable database entries skipped"),
        "{text}"
    );

    let out = bin()
        .args(["analyze", &r, "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema_version"], 3);
    let libc = v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "libc6")
        .unwrap();
    assert_eq!(libc["ecosystem"], "dpkg");
    assert_eq!(libc["bytes"], 5500);
    assert_eq!(libc["files"], 1);
    assert_eq!(libc["layer"], 0);
    assert_eq!(libc["changed_in"], serde_json::json!([1]));
    assert_eq!(
        v["layers"][1]["packages"]["upgraded"][0]["to"],
        "2.36-9+deb12u1"
    );
    assert_eq!(v["package_summary"]["unowned_by_dir"][0]["dir"], "/app");

    let out = bin()
        .args(["analyze", &r, "--format", "markdown"])
        .output()
        .unwrap();
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.contains("### Largest packages (4 of 4)"), "{md}");
    assert!(
        md.contains("| libc6 | 2.36-9+deb12u1 | dpkg | 5.5 kB | 0 |"),
        "{md}"
    );
}

#[test]
fn distroless_status_d_and_md5sums() {
    let img = ImageBuilder::new()
        .layer("COPY / /", |l| {
            l.file("etc/os-release", "ID=debian\n")
                .file("usr/lib/libssl.so.3", vec![1u8; 900])
                .file(
                    "var/lib/dpkg/status.d/libssl3",
                    "Package: libssl3\nVersion: 3.0.15-1\nArchitecture: amd64\n",
                )
                .file(
                    "var/lib/dpkg/status.d/libssl3.md5sums",
                    "0123  usr/lib/libssl.so.3\n",
                )
        })
        .build()
        .unwrap();
    let (a, _d) = analyze_image(&img);
    let p = find(&a, Ecosystem::Dpkg, "libssl3");
    assert_eq!((p.version.as_str(), p.bytes), ("3.0.15-1", 900));
}

#[test]
fn apk_database_with_a_corrupt_stanza() {
    let db = "C:Q1x=\nP:musl\nV:1.2.4-r2\nF:lib\nR:ld-musl-x86_64.so.1\n\n\
P:busybox\nV:1.36.1-r5\nD:musl\nF:bin\nR:busybox\n\nV:no-name\n\n";
    let img = ImageBuilder::new()
        .layer("ADD alpine.tar /", |l| {
            l.file("lib/ld-musl-x86_64.so.1", vec![1u8; 600])
                .file("bin/busybox", vec![2u8; 800])
                .file("lib/apk/db/installed", db)
        })
        .build()
        .unwrap();
    let (a, _d) = analyze_image(&img);
    assert_eq!(find(&a, Ecosystem::Apk, "busybox").bytes, 800);
    assert_eq!(find(&a, Ecosystem::Apk, "busybox").depends, ["musl"]);
    assert_eq!(find(&a, Ecosystem::Apk, "musl").version, "1.2.4-r2");
    assert_eq!(a.packages.skipped[0].entries, 1);
}

#[test]
fn rpm_sqlite_database_and_unreadable_forms() {
    let db = fixture_packages::rpm_sqlite_db(&[
        fixture_packages::rpm_header("bash", "5.2.26", "3.fc40", &["glibc"], &["/usr/bin/bash"]),
        fixture_packages::rpm_header("glibc", "2.39", "5.fc40", &[], &["/usr/lib64/libc.so.6"]),
        b"\0\0\0\x09 not a header".to_vec(),
    ])
    .unwrap();
    let img = ImageBuilder::new()
        .layer("ADD fedora.tar /", |l| {
            l.file("usr/bin/bash", vec![1u8; 1500])
                .file("usr/lib64/libc.so.6", vec![2u8; 2500])
                .file("var/lib/rpm/rpmdb.sqlite", db.clone())
        })
        .build()
        .unwrap();
    let (a, _d) = analyze_image(&img);
    let bash = find(&a, Ecosystem::Rpm, "bash");
    assert_eq!((bash.version.as_str(), bash.bytes), ("5.2.26-3.fc40", 1500));
    assert_eq!(bash.depends, ["glibc"]);
    assert_eq!(find(&a, Ecosystem::Rpm, "glibc").bytes, 2500);
    assert_eq!(a.packages.skipped[0].entries, 1, "the bad header");

    // A damaged sqlite file and a Berkeley DB: named in a note, never a panic.
    let mut damaged = db;
    damaged.truncate(700);
    let img = ImageBuilder::new()
        .layer("ADD centos7.tar /", |l| {
            l.file("var/lib/rpm/rpmdb.sqlite", damaged)
                .file("usr/lib/sysimage/rpm/Packages", vec![0u8; 64])
        })
        .build()
        .unwrap();
    let (a, _d) = analyze_image(&img);
    assert!(a.packages.packages.is_empty());
    let notes = a.packages.notes.join("\n");
    assert!(notes.contains("rpmdb.sqlite"), "{notes}");
    assert!(notes.contains("Berkeley DB"), "{notes}");
}

/// A pip package, a Debian python package that also has Python metadata (claimed by dpkg:
/// the file owned twice goes to the system package), test suites and bytecode.
#[test]
fn python_distributions_and_double_claims() {
    let sp = "usr/local/lib/python3.11/site-packages";
    let dp = "usr/lib/python3/dist-packages";
    let record = "requests/__init__.py,sha256=x,4000\nrequests/__pycache__/__init__.cpython-311.pyc,,\n\
requests/tests/test_api.py,,\nrequests-2.32.3.dist-info/METADATA,,\n\"requests-2.32.3.dist-info/RECORD\",,\n";
    let img = ImageBuilder::new()
        .layer("RUN apt-get install -y python3-six", |l| {
            l.file(format!("{dp}/six.py"), vec![b'#'; 3000])
                .file(format!("{dp}/six-1.16.0.egg-info/PKG-INFO"), "Name: six\nVersion: 1.16.0\n")
                .file(format!("{dp}/six-1.16.0.egg-info/top_level.txt"), "six\n")
                .file(
                    "var/lib/dpkg/status",
                    "Package: python3-six\nStatus: install ok installed\nVersion: 1.16.0-4\n",
                )
                .file(
                    "var/lib/dpkg/info/python3-six.list",
                    format!("/{dp}/six.py\n/{dp}/six-1.16.0.egg-info\n/{dp}/six-1.16.0.egg-info/PKG-INFO\n/{dp}/six-1.16.0.egg-info/top_level.txt\n"),
                )
        })
        .layer("RUN pip install requests", |l| {
            l.file(format!("{sp}/requests/__init__.py"), vec![b'#'; 4000])
                .file(format!("{sp}/requests/__pycache__/__init__.cpython-311.pyc"), vec![0u8; 2500])
                .file(format!("{sp}/requests/tests/test_api.py"), vec![b'#'; 1200])
                .file(
                    format!("{sp}/requests-2.32.3.dist-info/METADATA"),
                    "Metadata-Version: 2.1\nName: requests\nVersion: 2.32.3\n",
                )
                .file(format!("{sp}/requests-2.32.3.dist-info/RECORD"), record)
        })
        .build()
        .unwrap();
    let (a, _d) = analyze_image(&img);
    let six = find(&a, Ecosystem::Dpkg, "python3-six");
    assert_eq!(six.files, 3, "six.py and its metadata");
    assert!(
        a.packages
            .packages
            .iter()
            .all(|p| p.ecosystem != Ecosystem::Pip || p.name != "six"),
        "installed by apt: not listed again as a pip package"
    );
    assert_eq!(
        owner(&a, &format!("/{dp}/six.py")).as_deref(),
        Some("python3-six")
    );
    let req = find(&a, Ecosystem::Pip, "requests");
    assert_eq!(req.version, "2.32.3");
    assert_eq!(req.layer, 1);
    assert_eq!(req.files, 5);
    let meta = 4000 + 2500 + 1200;
    assert!(req.bytes > meta, "{}", req.bytes);
    let rule = |r: &str| a.findings.iter().find(|f| f.rule == r).unwrap();
    assert_eq!(rule("package.python-pycache").bytes, 2500);
    assert_eq!(rule("package.python-tests").bytes, 1200);
    assert!(rule("package.python-tests")
        .detail
        .as_deref()
        .unwrap()
        .contains("requests"));
    assert!(a
        .suggestions
        .iter()
        .any(|s| s.rule == "python-slim-site-packages"));
}

#[test]
fn npm_packages_nested_and_dev_dependencies() {
    let m = "app/node_modules";
    let img = ImageBuilder::new()
        .layer("COPY package.json /app/", npm_package_json)
        .layer("RUN npm install", |l| {
            npm_install(l)
                .file(format!("{m}/jest/lib/package.json"), r#"{"type":"module"}"#)
                .file(
                    format!("{m}/jest/node_modules/chalk/package.json"),
                    r#"{"name":"chalk","version":"4.1.2"}"#,
                )
                .file(
                    format!("{m}/jest/node_modules/chalk/index.js"),
                    vec![b'z'; 900],
                )
                .file(format!("{m}/broken/package.json"), "{ not json")
        })
        .build()
        .unwrap();
    let (a, _d) = analyze_image(&img);
    let chalk = find(&a, Ecosystem::Npm, "chalk");
    let manifest = r#"{"name":"chalk","version":"4.1.2"}"#.len() as u64;
    assert_eq!((chalk.bytes, chalk.files), (900 + manifest, 2));
    let jest = find(&a, Ecosystem::Npm, "jest");
    assert_eq!(jest.files, 3, "its own files, not chalk's");
    assert_eq!(jest.path.as_deref(), Some("/app/node_modules/jest"));
    assert_eq!(find(&a, Ecosystem::Npm, "left-pad").version, "1.3.0");
    assert_eq!(a.packages.skipped[0].entries, 1, "the broken package.json");
    let dev = a
        .findings
        .iter()
        .find(|f| f.rule == "package.npm-dev-dependencies")
        .unwrap();
    assert_eq!(dev.bytes, jest.bytes);
    assert!(dev.title.contains("jest"));
    let s = a
        .suggestions
        .iter()
        .find(|s| s.rule == "npm-omit-dev")
        .unwrap();
    assert!(s.snippet.contains("npm ci --omit=dev"));
}

#[test]
fn go_build_info_in_binaries() {
    // Text spanning several read chunks, with the magic also in it as a string constant.
    let elf = fixture_packages::go_elf(
        &fixture_packages::go_build_info(
            "go1.22.1",
            "path\texample.com/hello\nmod\texample.com/hello\tv1.4.0\th1:x=\ndep\tgolang.org/x/text\tv0.14.0\th1:y=\n",
        ),
        300_000,
        Some(&fixture_packages::go_build_info("go1.0", "mod\tdecoy\tv0\t\n")),
    );
    let mut not_elf = b"#!/bin/sh\n".to_vec();
    not_elf.extend_from_slice(&fixture_packages::go_build_info(
        "go1.22.1",
        "mod\tfake\tv9\t\n",
    ));
    let img = ImageBuilder::new()
        .layer("COPY hello /usr/local/bin/", |l| {
            l.file_mode("usr/local/bin/hello", elf, 0o755)
                .file("usr/local/bin/script", not_elf)
        })
        .build()
        .unwrap();
    let (a, _d) = analyze_image(&img);
    let hello = find(&a, Ecosystem::Go, "example.com/hello");
    assert_eq!(hello.version, "v1.4.0");
    assert_eq!(hello.bytes, a.indexes[0].entries[0].size);
    assert_eq!(hello.depends, ["golang.org/x/text"]);
    assert_eq!(hello.path.as_deref(), Some("/usr/local/bin/hello"));
    assert_eq!(a.packages.packages.len(), 1);
}

/// Real Go binaries (the machine's own skopeo, docker-registry, buildah…, built by Debian's
/// Go toolchain with the external linker, where `.go.buildinfo` is not at the start of the
/// writable segment) give the build info an independent Python reader finds through the
/// section headers by name.
#[test]
fn go_build_info_of_real_binaries_matches_an_independent_reader() {
    let candidates = [
        "/usr/bin/skopeo",
        "/usr/bin/docker-registry",
        "/usr/bin/buildah",
        "/usr/bin/podman",
        "/usr/sbin/dockerd",
    ];
    let found: Vec<&str> = candidates
        .into_iter()
        .filter(|p| std::path::Path::new(p).is_file())
        .take(2)
        .collect();
    if found.is_empty() {
        crate::util::skip("no Go binary (skopeo, docker-registry, buildah, podman, dockerd)");
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scripts/go_buildinfo.py");
    let mut builder = ImageBuilder::new();
    let mut expected = Vec::new();
    for (i, path) in found.iter().enumerate() {
        let out = succeeded(
            Command::new("python3")
                .args([script, path])
                .output()
                .unwrap(),
        );
        let want: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let bytes = std::fs::read(path).unwrap();
        let name = format!("usr/local/bin/go-{i}");
        let size = bytes.len() as u64;
        builder = builder.layer(&format!("COPY {path} /usr/local/bin/"), move |l| {
            l.file_mode(&name, bytes, 0o755)
        });
        expected.push((format!("/usr/local/bin/go-{i}"), size, want));
    }
    let (a, _d) = analyze_image(&builder.build().unwrap());
    for (path, size, want) in expected {
        let module = want["module"].as_str().unwrap();
        let p = a
            .packages
            .packages
            .iter()
            .find(|p| p.ecosystem == Ecosystem::Go && p.path.as_deref() == Some(path.as_str()))
            .unwrap_or_else(|| panic!("{path} ({module}) not found: {:#?}", a.packages.packages));
        assert_eq!(p.name, module, "{path}");
        assert_eq!(p.version, want["version"].as_str().unwrap(), "{path}");
        assert_eq!(p.bytes, size, "{path}");
        let deps: Vec<&str> = want["deps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d[0].as_str().unwrap())
            .collect();
        assert_eq!(p.depends, deps, "{path}");
    }
}

#[test]
fn build_only_packages_are_found_with_a_purge_suggestion() {
    let img = ImageBuilder::new()
        .layer("RUN apt-get install -y build-essential", |l| {
            l.file("usr/lib/x86_64-linux-gnu/libfoo.so", vec![1u8; 3000])
                .file("usr/share/pkgconfig/foo.pc", vec![2u8; 100])
                .file("usr/lib/gcc/x86_64-linux-gnu/12/cc1", vec![3u8; 9000])
                .file(
                    "var/lib/dpkg/status",
                    "Package: libfoo-dev\nVersion: 1\n\nPackage: gcc-12\nVersion: 12.2.0-14\n\nPackage: libfoo1\nVersion: 1\n",
                )
                .file("var/lib/dpkg/info/libfoo-dev.list", "/usr/share/pkgconfig/foo.pc\n")
                .file("var/lib/dpkg/info/libfoo1.list", "/usr/lib/x86_64-linux-gnu/libfoo.so\n")
                .file("var/lib/dpkg/info/gcc-12.list", "/usr/lib/gcc/x86_64-linux-gnu/12/cc1\n")
        })
        .build()
        .unwrap();
    let (a, _d) = analyze_image(&img);
    let f = a
        .findings
        .iter()
        .find(|f| f.rule == "package.build-only")
        .unwrap();
    // gcc-12's compiler is already reported by the compiler path rule: counted once.
    assert_eq!(f.bytes, 100);
    assert!(
        f.title.contains("2 build-only dpkg packages"),
        "{}",
        f.title
    );
    assert!(!f.title.contains("libfoo1"));
    let s = a
        .suggestions
        .iter()
        .find(|s| s.rule == "purge-build-packages")
        .unwrap();
    assert!(
        s.snippet
            .contains("apt-get purge -y --auto-remove libfoo-dev gcc-12")
            || s.snippet
                .contains("apt-get purge -y --auto-remove gcc-12 libfoo-dev"),
        "{}",
        s.snippet
    );
}

#[test]
fn diff_lists_added_packages_with_who_pulled_them_in() {
    let base = dpkg_image();
    let status = format!(
        "{STATUS_1}\nPackage: build-essential\nStatus: install ok installed\nVersion: 12.9\nDepends: gcc-12\n\n\
Package: gcc-12\nStatus: install ok installed\nVersion: 12.2.0-14\nDepends: cpp-12\n\n\
Package: cpp-12\nStatus: install ok installed\nVersion: 12.2.0-14\n"
    );
    let new = ImageBuilder::new()
        .layer("ADD rootfs.tar /", rootfs)
        .layer("RUN apt-get install -y build-essential", move |l| {
            l.file("usr/bin/gcc-12", vec![8u8; 9000])
                .file("usr/bin/cpp-12", vec![9u8; 4000])
                .file("var/lib/dpkg/status", status.clone())
                .file("var/lib/dpkg/info/gcc-12.list", "/usr/bin/gcc-12\n")
                .file("var/lib/dpkg/info/cpp-12.list", "/bin/cpp-12\n")
                .file(
                    "var/lib/dpkg/info/build-essential.list",
                    "/usr/share/doc/build-essential\n",
                )
        })
        .build()
        .unwrap();
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let old_ref = write(&base, Format::OciLayout, d1.path());
    let new_ref = write(&new, Format::OciArchive, d2.path());
    let out = succeeded(bin().args(["diff", &old_ref, &new_ref]).output().unwrap());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("+gcc-12 12.2.0-14 (dpkg) +9.0 kB in layer 1, pulled in by build-essential"),
        "{text}"
    );
    assert!(
        text.contains("+cpp-12 12.2.0-14 (dpkg) +4.0 kB in layer 1, pulled in by build-essential"),
        "{text}"
    );
    assert!(text.contains("Packages: 3 added (+13.0 kB)"), "{text}");
    assert!(text.contains("-libc6") || text.contains("^libc6"), "{text}");
    let out = bin()
        .args(["diff", &old_ref, &new_ref, "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["packages"]["added"][0]["name"], "gcc-12");
    assert_eq!(v["packages"]["added"][0]["bytes"]["delta"], 9000);
    assert_eq!(v["packages"]["added"][0]["pulled_in_by"], "build-essential");
}

/// dpkg bytes per package equal an independent count made by Python's tarfile over the
/// same layout, and names and versions equal the status file.
#[test]
fn corpus_dpkg_bytes_match_an_independent_count() {
    let Some(c) = corpus() else { return };
    let layout = c.join("oci");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scripts/dpkg_bytes.py");
    for image in ["base", "apt-waste", "pip-waste"] {
        let out = match Command::new("python3")
            .args([script, layout.to_str().unwrap(), image])
            .output()
        {
            Ok(o) => o,
            Err(e) => {
                eprintln!("skipping: python3 not available ({e})");
                return;
            }
        };
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let expected: BTreeMap<String, serde_json::Value> =
            serde_json::from_slice(&out.stdout).unwrap();
        let a = analyze(&format!("oci:{}:{image}", layout.display())).unwrap();
        let got: BTreeMap<String, (String, u64)> = a
            .packages
            .packages
            .iter()
            .filter(|p| p.ecosystem == Ecosystem::Dpkg)
            .map(|p| (p.name.clone(), (p.version.clone(), p.bytes)))
            .collect();
        assert!(expected.len() > 50, "{image}: {}", expected.len());
        let names: Vec<_> = got.keys().collect();
        let want: Vec<_> = expected.keys().collect();
        assert_eq!(names, want, "{image}: package names");
        for (name, e) in &expected {
            let (version, bytes) = &got[name];
            assert_eq!(version, e["version"].as_str().unwrap(), "{image}: {name}");
            assert_eq!(
                *bytes,
                e["bytes"].as_u64().unwrap(),
                "{image}: {name} bytes"
            );
        }
    }
}

#[test]
fn corpus_pip_waste_has_requests() {
    let Some(c) = corpus() else { return };
    let a = analyze(&format!("oci:{}:pip-waste", c.join("oci").display())).unwrap();
    let req = find(&a, Ecosystem::Pip, "requests");
    assert!(!req.version.is_empty());
    assert!(req.bytes > 100_000, "{}", req.bytes);
    // The version is the one in the dist-info directory's name.
    let dist = req.path.as_deref().unwrap();
    assert!(
        dist.ends_with(&format!("requests-{}.dist-info", req.version)),
        "{dist}"
    );
}

#[test]
fn corpus_diff_base_to_apt_waste_adds_curl_and_its_dependencies() {
    let Some(c) = corpus() else { return };
    let oci = c.join("oci");
    let base = Report::from_analysis(&analyze(&format!("oci:{}:base", oci.display())).unwrap());
    let apt = Report::from_analysis(&analyze(&format!("oci:{}:apt-waste", oci.display())).unwrap());
    let d = layersift::compare(&base, &apt, 20);
    let curl = d.packages.added.iter().find(|p| p.name == "curl").unwrap();
    assert!(curl.bytes.delta > 100_000);
    assert_eq!(curl.pulled_in_by, None, "installed by name");
    let libcurl = d
        .packages
        .added
        .iter()
        .find(|p| p.name == "libcurl4")
        .unwrap();
    assert_eq!(libcurl.pulled_in_by.as_deref(), Some("curl"));
    assert!(libcurl.bytes.delta > 0);
    assert!(d.packages.added.len() > 3, "{:#?}", d.packages.added);
    let new_bytes: i64 = d.packages.added.iter().map(|p| p.bytes.delta).sum();
    assert!(new_bytes > 1_000_000, "{new_bytes}");
    let out = layersift::render_diff(&base, &apt, &d, layersift::ReportFormat::Text).unwrap();
    assert!(out.contains("+curl 7.88.1"), "{out}");
    assert!(out.contains("pulled in by curl"), "{out}");
}

/// The TUI names the owning package of the selected file, and `p` shows only that
/// package's files.
#[test]
fn tui_shows_the_owning_package_and_filters_by_it() {
    use layersift::{App, Pane};
    use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
    let (a, _d) = analyze_image(&dpkg_image());
    let mut app = App::new(
        std::sync::Arc::new(a),
        ratatui::layout::Rect::new(0, 0, 140, 40),
    );
    app.sync();
    let key = |app: &mut App, code: KeyCode| {
        app.handle(&Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        app.sync();
    };
    let screen = |app: &App| {
        let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(140, 40)).unwrap();
        t.draw(|f| app.draw(f)).unwrap();
        t.backend().to_string()
    };
    key(&mut app, KeyCode::Char('/'));
    for c in "bin/bash".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.focus, Pane::Tree);
    while app
        .selected_node()
        .is_some_and(|id| app.tree.as_ref().unwrap().path(id) != "/usr/bin/bash")
    {
        key(&mut app, KeyCode::Down);
    }
    let t = screen(&app);
    assert!(t.contains("Package"), "{t}");
    assert!(
        t.contains("bash 5.2-1 (dpkg, 1.0 kB in 2 files, installed in"),
        "{t}"
    );
    key(&mut app, KeyCode::Char('p'));
    key(&mut app, KeyCode::Char('/'));
    key(&mut app, KeyCode::Esc);
    let t = screen(&app);
    assert!(t.contains("package bash"), "{t}");
    assert!(t.contains("common") && t.contains("bash"), "{t}");
    assert!(!t.contains("libc.so.6") && !t.contains("status"), "{t}");
    // `p` again shows everything.
    key(&mut app, KeyCode::Char('p'));
    assert!(screen(&app).contains("libc.so.6"));
}
