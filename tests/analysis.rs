//! Waste analysis, suggestions and reports: one fixture image per category and per
//! suggestion with exact bytes, the corpus images' known waste, a clean image with no
//! high-severity finding, secrets redacted in every output, and the JSON report validated
//! against `docs/report.schema.json`.

use layersift::Analysis;
use layersift::{Category, Finding, Severity, Suggestion};
use layersift_fixture::{BuiltImage, Format, ImageBuilder};

use crate::util::{analyze, assert_accounting, bin, corpus, schema_errors, success_stdout, write};

const TOKEN: &str = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB";
const KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n";

fn run(img: &BuiltImage) -> Analysis {
    let dir = tempfile::tempdir().unwrap();
    let r = write(img, Format::OciLayout, dir.path());
    let a = analyze(&r).unwrap();
    assert_accounting(&a);
    a
}

fn find<'a>(a: &'a Analysis, rule: &str, layer: usize) -> &'a Finding {
    a.findings
        .iter()
        .find(|f| f.rule == rule && f.layer == layer)
        .unwrap_or_else(|| panic!("no {rule} finding in layer {layer}: {:#?}", a.findings))
}

fn suggestion<'a>(a: &'a Analysis, rule: &str, layer: usize) -> &'a Suggestion {
    a.suggestions
        .iter()
        .find(|s| s.rule == rule && s.layer == layer)
        .unwrap_or_else(|| {
            panic!(
                "no {rule} suggestion for layer {layer}: {:#?}",
                a.suggestions
            )
        })
}

/// A suggestion's savings are its findings' bytes, each counted once.
fn assert_savings_add_up(a: &Analysis, s: &Suggestion) {
    let bytes: u64 = s
        .findings
        .iter()
        .map(|&i| &a.findings[i])
        .filter(|f| f.category != Category::Secret)
        .map(|f| f.bytes)
        .sum();
    let compressed: Option<u64> = s
        .findings
        .iter()
        .map(|&i| a.findings[i].compressed_bytes)
        .sum();
    assert_eq!(s.saves_bytes, bytes, "{}", s.rule);
    assert_eq!(s.saves_compressed_bytes, compressed, "{}", s.rule);
}

fn base(l: layersift_fixture::LayerBuilder) -> layersift_fixture::LayerBuilder {
    l.dir("bin")
        .file_mode("bin/sh", vec![7u8; 1000], 0o755)
        .dir("etc")
        .file("etc/os-release", "ID=debian\n")
}

fn apt_image() -> BuiltImage {
    ImageBuilder::new()
        .layer("ADD rootfs.tar /", base)
        .layer("RUN apt-get update", |l| {
            l.file("var/lib/apt/lists/main_Packages", vec![b'p'; 5000])
                .file("var/lib/apt/lists/main_Translation-en", vec![b't'; 3000])
                .file("var/cache/apt/pkgcache.bin", vec![b'c'; 2000])
        })
        .layer("RUN apt-get install -y curl", |l| {
            l.file_mode("usr/bin/curl", vec![b'u'; 1000], 0o755)
                .file(
                    "var/cache/apt/archives/curl_7.88_amd64.deb",
                    vec![b'd'; 700],
                )
                .file("var/cache/apt/pkgcache.bin", vec![b'C'; 2100])
                .file("var/log/dpkg.log", vec![b'l'; 50])
        })
        .layer("RUN rm -rf /var/lib/apt/lists/*", |l| {
            l.whiteout("var/lib/apt/lists/main_Packages")
                .whiteout("var/lib/apt/lists/main_Translation-en")
        })
        .build()
        .unwrap()
}

#[test]
fn apt_steps_are_hidden_and_cached_bytes_and_merge_into_one_run() {
    let a = run(&apt_image());
    let removed = find(&a, "hidden.removed", 1);
    assert_eq!((removed.bytes, removed.hidden_by), (8000, Some(3)));
    assert_eq!(removed.instruction, "RUN apt-get update");
    assert_eq!(find(&a, "hidden.overwritten-changed", 1).bytes, 2000);
    assert_eq!(find(&a, "cache.apt-cache", 2).bytes, 2100);
    let debs = find(&a, "cache.apt-archives", 2);
    assert_eq!(debs.bytes, 700);
    assert_eq!(debs.paths, ["/var/cache/apt/archives/curl_7.88_amd64.deb"]);
    assert_eq!(find(&a, "temp.log", 2).bytes, 50);

    let s = suggestion(&a, "merge-apt-steps", 1);
    assert_eq!(s.layers, [1, 2, 3]);
    assert_eq!(s.instruction, "RUN apt-get update");
    assert_eq!(
        s.snippet,
        "RUN apt-get update \\\n && apt-get install -y --no-install-recommends curl \\\n && apt-get clean \\\n && rm -rf /var/lib/apt/lists/*"
    );
    assert_eq!(s.saves_bytes, 8000 + 2000 + 2100 + 700);
    assert!(s.saves_compressed_bytes.is_some_and(|c| c > 0));
    assert_savings_add_up(&a, s);
    assert!(s
        .evidence
        .contains(&"/var/lib/apt/lists/main_Packages".to_string()));

    let t = suggestion(&a, "delete-temp-files", 2);
    assert_eq!(
        t.snippet,
        "RUN apt-get install -y curl \\\n && rm -rf /var/log/dpkg.log"
    );
    assert_eq!(t.saves_bytes, 50);

    // Savings: hidden + avoidable, each byte once.
    assert_eq!(a.avoidable_bytes(), 2100 + 700 + 50);
    assert_eq!(a.potential_savings(), 8000 + 2000 + 2100 + 700 + 50);
    // No finding is resolved by two suggestions.
    let mut seen = std::collections::HashSet::new();
    for s in &a.suggestions {
        for i in &s.findings {
            assert!(seen.insert(*i), "finding {i} resolved twice");
        }
    }
}

#[test]
fn every_package_manager_cache_is_found_in_its_layer() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "RUN pip install flask",
            "root/.cache/pip/wheels/ab/flask.whl",
            "cache.pip",
        ),
        (
            "RUN npm ci",
            "root/.npm/_cacache/content-v2/sha512/aa",
            "cache.npm",
        ),
        (
            "RUN yarn install",
            "usr/local/share/.cache/yarn/v6/pkg/x.js",
            "cache.yarn",
        ),
        (
            "RUN pnpm install",
            "root/.local/share/pnpm/store/v3/files/00/x",
            "cache.pnpm",
        ),
        (
            "RUN apk add curl",
            "var/cache/apk/APKINDEX.abc.tar.gz",
            "cache.apk",
        ),
        (
            "RUN dnf install -y curl",
            "var/cache/dnf/fedora/packages/curl.rpm",
            "cache.dnf",
        ),
        (
            "RUN yum install -y curl",
            "var/cache/yum/x86_64/base/packages/c.rpm",
            "cache.dnf",
        ),
        (
            "RUN zypper install -y curl",
            "var/cache/zypp/packages/repo/c.rpm",
            "cache.zypper",
        ),
        (
            "RUN go build ./...",
            "root/.cache/go-build/ab/abcdef-d",
            "cache.go-build",
        ),
        (
            "RUN go mod download",
            "go/pkg/mod/github.com/x/y@v1.0.0/y.go",
            "cache.go-mod",
        ),
        (
            "RUN cargo build --release",
            "usr/local/cargo/registry/cache/x/serde.crate",
            "cache.cargo",
        ),
        (
            "RUN mvn package",
            "root/.m2/repository/org/x/x.jar",
            "cache.maven",
        ),
        (
            "RUN gradle build",
            "root/.gradle/caches/modules-2/x.jar",
            "cache.gradle",
        ),
        (
            "RUN composer install",
            "root/.composer/cache/files/x.zip",
            "cache.composer",
        ),
        (
            "RUN bundle install",
            "usr/local/bundle/cache/rack-3.0.gem",
            "cache.gem",
        ),
        (
            "RUN dotnet restore",
            "root/.nuget/packages/newtonsoft.json/13.0.1/x.nupkg",
            "cache.nuget",
        ),
        ("RUN make", "root/.cache/ccache/a/b/x.o", "cache.ccache"),
    ];
    let mut img = ImageBuilder::new().layer("ADD rootfs.tar /", base);
    for (i, (step, path, _)) in cases.iter().enumerate() {
        let size = 1000 + i;
        img = img.layer(step, move |l| l.file(path, vec![b'x'; size]));
    }
    let a = run(&img.build().unwrap());
    for (i, (step, path, rule)) in cases.iter().enumerate() {
        let f = find(&a, rule, i + 1);
        assert_eq!(f.bytes, 1000 + i as u64, "{rule}");
        assert_eq!(f.category, Category::PackageCache);
        assert_eq!(f.paths, [format!("/{path}")]);
        assert_eq!(&f.instruction, step);
        assert_eq!(f.severity, Severity::Low);
        // Every cache gets a rewrite of the step that left it.
        let s = a
            .suggestions
            .iter()
            .find(|s| s.layer == i + 1)
            .unwrap_or_else(|| panic!("no suggestion for {step}"));
        assert_eq!(s.saves_bytes, 1000 + i as u64, "{step}");
    }
    let snippet = |layer: usize| &suggestion_for(&a, layer).snippet;
    assert_eq!(snippet(1), "RUN pip install --no-cache-dir flask");
    assert_eq!(snippet(2), "RUN npm ci \\\n && npm cache clean --force");
    assert_eq!(snippet(3), "RUN yarn install \\\n && yarn cache clean");
    assert_eq!(snippet(5), "RUN apk add --no-cache curl");
    assert_eq!(snippet(6), "RUN dnf install -y curl \\\n && dnf clean all");
    assert_eq!(snippet(7), "RUN yum install -y curl \\\n && yum clean all");
    assert_eq!(
        snippet(9),
        "RUN --mount=type=cache,target=/root/.cache/go-build \\\n    go build ./..."
    );
    assert_eq!(
        snippet(12),
        "RUN --mount=type=cache,target=/root/.m2 \\\n    mvn package"
    );
}

fn suggestion_for(a: &Analysis, layer: usize) -> &Suggestion {
    a.suggestions.iter().find(|s| s.layer == layer).unwrap()
}

#[test]
fn temp_files_and_duplicates() {
    let logo: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    let img = ImageBuilder::new()
        .layer("ADD rootfs.tar /", base)
        .layer("RUN ./build.sh", |l| {
            l.file("tmp/build/out.log", vec![b'x'; 100])
                .file("var/tmp/cache.dat", vec![b'y'; 200])
                .file("tmp/gone.txt", vec![b'z'; 300])
        })
        .layer("COPY app/ /app/", |l| {
            l.file("app/a.bin", logo.clone())
                .file("app/b.bin", logo.clone())
                .file("app/c/a.bin", logo.clone())
                .hardlink("app/link.bin", "app/a.bin")
                .file("app/s1.txt", "hello")
                .file("app/s2.txt", "hello")
                .file("app/LICENSE", "MIT")
                .file("app/sub/LICENSE", "MIT")
        })
        .layer("RUN rm /tmp/gone.txt", |l| l.whiteout("tmp/gone.txt"))
        .build()
        .unwrap();
    let a = run(&img);
    // Only visible temp files are avoidable; the removed one is a hidden byte.
    let temp = find(&a, "temp.tmp", 1);
    assert_eq!(temp.bytes, 300);
    assert_eq!(temp.paths, ["/var/tmp/cache.dat", "/tmp/build/out.log"]);
    assert_eq!(find(&a, "hidden.removed", 1).bytes, 300);
    let s = suggestion(&a, "delete-temp-files", 1);
    assert_eq!(s.snippet, "RUN ./build.sh \\\n && rm -rf /tmp/* /var/tmp/*");

    let dup = a
        .findings
        .iter()
        .find(|f| f.category == Category::Duplicate && f.bytes >= 64 * 1024)
        .unwrap();
    assert_eq!(dup.layer, 2);
    assert_eq!(dup.bytes, 2 * 70_000);
    assert_eq!(dup.path_count, 2);
    assert_eq!(dup.paths, ["/app/b.bin", "/app/c/a.bin"]);
    assert!(dup.detail.as_deref().unwrap().contains("`/app/a.bin`"));
    // The hard link is not a copy; license files are not waste; small copies are pooled.
    let small = a
        .findings
        .iter()
        .find(|f| f.category == Category::Duplicate && f.bytes < 64 * 1024)
        .unwrap();
    assert_eq!(
        (small.bytes, small.paths.as_slice()),
        (5, &["/app/s2.txt".to_string()][..])
    );
    let link = suggestion(&a, "link-duplicates", 2);
    assert_eq!(link.saves_bytes, 140_000 + 5);
    assert!(link
        .snippet
        .ends_with("RUN ln -sf /app/a.bin /app/b.bin \\\n && ln -sf /app/a.bin /app/c/a.bin"));
}

#[test]
fn docs_and_toolchains_are_low_severity_and_not_savings() {
    let img = ImageBuilder::new()
        .layer("ADD rootfs.tar /", base)
        .layer(
            "RUN apt-get install -y --no-install-recommends build-essential",
            |l| {
                l.file("usr/share/doc/pkg/README.md", vec![b'r'; 300])
                    .file("usr/share/doc/pkg/copyright", vec![b'c'; 100])
                    .file("usr/share/man/man1/x.1.gz", vec![b'm'; 200])
                    .file("usr/share/locale/de/LC_MESSAGES/x.mo", vec![b'l'; 50])
                    .file("usr/lib/gcc/x86_64-linux-gnu/12/cc1", vec![b'g'; 5000])
                    .file("usr/include/stdio.h", vec![b'h'; 400])
                    .file("usr/lib/x86_64-linux-gnu/libc.a", vec![b'a'; 600])
            },
        )
        .build()
        .unwrap();
    let a = run(&img);
    let bytes = |r| find(&a, r, 1).bytes;
    assert_eq!(bytes("docs.docs"), 300);
    assert_eq!(bytes("docs.man"), 200);
    assert_eq!(bytes("docs.locale"), 50);
    assert_eq!(bytes("toolchain.compiler"), 5000);
    assert_eq!(bytes("toolchain.headers"), 400);
    assert_eq!(bytes("toolchain.static-libs"), 600);
    assert!(a
        .findings
        .iter()
        .all(|f| f.severity == Severity::Info && f.category.is_optional()));
    assert_eq!(a.optional_bytes(), 300 + 200 + 50 + 5000 + 400 + 600);
    assert_eq!(a.avoidable_bytes(), 0);
    assert_eq!(a.potential_savings(), 0);
}

#[test]
fn chmod_layer_is_same_content_and_suggests_copy_chmod() {
    let img = ImageBuilder::new()
        .layer("ADD rootfs.tar /", base)
        .layer("COPY app/ /app/", |l| {
            l.file("app/run.sh", vec![b's'; 1234])
                .file("app/data.bin", vec![b'd'; 4321])
        })
        .layer("RUN chmod -R 755 /app", |l| {
            l.file_mode("app/run.sh", vec![b's'; 1234], 0o755)
                .file_mode("app/data.bin", vec![b'd'; 4321], 0o755)
        })
        .build()
        .unwrap();
    let a = run(&img);
    let f = find(&a, "hidden.overwritten-same", 1);
    assert_eq!((f.bytes, f.hidden_by, f.path_count), (5555, Some(2), 2));
    let s = suggestion(&a, "set-modes-in-creating-step", 2);
    assert_eq!(s.layers, [1, 2]);
    assert_eq!(
        s.snippet,
        "COPY --chmod=755 app/ /app/\n# and drop: RUN chmod -R 755 /app"
    );
    assert_eq!(s.saves_bytes, 5555);
    assert_savings_add_up(&a, s);
}

#[test]
fn files_removed_later_suggest_deleting_them_in_the_same_run() {
    let img = ImageBuilder::new()
        .layer("ADD rootfs.tar /", base)
        .layer("RUN make && make install", |l| {
            l.file("build/obj.o", vec![b'o'; 3000]).file_mode(
                "usr/local/bin/app",
                vec![b'a'; 900],
                0o755,
            )
        })
        .layer("RUN rm -rf /build", |l| l.whiteout("build"))
        .build()
        .unwrap();
    let a = run(&img);
    let f = find(&a, "hidden.removed", 1);
    assert_eq!((f.bytes, f.hidden_by), (3000, Some(2)));
    let s = suggestion(&a, "merge-runs", 1);
    assert_eq!(
        s.snippet,
        "RUN make \\\n && make install \\\n && rm -rf /build"
    );
    assert_eq!(s.saves_bytes, 3000);
}

fn secret_image() -> BuiltImage {
    ImageBuilder::new()
        .layer("ADD rootfs.tar /", base)
        .layer("COPY id_rsa /root/.ssh/id_rsa", |l| {
            l.dir("root/.ssh").file_mode("root/.ssh/id_rsa", KEY, 0o600)
        })
        .layer("RUN rm /root/.ssh/id_rsa", |l| {
            l.whiteout("root/.ssh/id_rsa")
        })
        .layer(&format!("RUN GITHUB_TOKEN={TOKEN} ./fetch.sh"), |l| {
            l.file(
                "root/.npmrc",
                "//registry.npmjs.org/:_authToken=npm_abcdefghijklmnopqrstuvwxyz0123456789\n",
            )
        })
        .empty_layer_step("ENV API_TOKEN=sk_live_4eC39HqLyjWDarjtT1zdp7dc")
        .env("API_TOKEN=sk_live_4eC39HqLyjWDarjtT1zdp7dc")
        .build()
        .unwrap()
}

#[test]
fn secrets_are_found_everywhere_and_redacted_in_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let r = write(&secret_image(), Format::OciLayout, dir.path());
    let a = analyze(&r).unwrap();
    let secrets: Vec<&Finding> = a.secrets().collect();
    let rules: Vec<(&str, usize)> = secrets.iter().map(|f| (f.rule.as_str(), f.layer)).collect();
    assert!(rules.contains(&("secret.private-key", 1)), "{rules:?}");
    assert!(rules.contains(&("secret.npm-token", 3)), "{rules:?}");
    assert!(rules.contains(&("secret.stripe-key", 3)), "{rules:?}");
    assert!(rules.contains(&("secret.github-token", 3)), "{rules:?}");
    assert_eq!(secrets.len(), 4, "{rules:?}");
    let key = secrets
        .iter()
        .find(|f| f.rule == "secret.private-key")
        .unwrap();
    assert_eq!(key.hidden_by, Some(2), "deleted, still shipped");
    assert_eq!(key.paths, ["/root/.ssh/id_rsa"]);
    assert_eq!(
        key.detail.as_deref(),
        Some("line 1: -----BEGIN OPENSSH PRIVATE KEY-----[REDACTED]")
    );
    assert!(secrets.iter().all(|f| f.severity == Severity::High));
    // The build step itself is redacted in the model.
    assert_eq!(
        a.layers[3].step.instruction,
        "RUN GITHUB_TOKEN=ghp_[REDACTED] ./fetch.sh"
    );
    let s = suggestion(&a, "secret-mount", 1);
    assert!(s
        .snippet
        .contains("--mount=type=secret,id=id_rsa,target=/root/.ssh/id_rsa"));
    // The removed copy of the key is resolved by the secret suggestion.
    assert_eq!(s.saves_bytes, KEY.len() as u64);

    for format in ["text", "json", "markdown"] {
        let out = success_stdout(bin().args(["analyze", "--format", format, &r]));
        for secret in [
            TOKEN,
            "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            "npm_abcdefghijklmnopqrstuvwxyz0123456789",
            "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ",
        ] {
            assert!(!out.contains(secret), "{format} output leaks a secret");
        }
        assert!(out.contains("[REDACTED]"), "{format}");
    }
}

#[test]
fn a_clean_image_has_no_high_severity_finding() {
    let img = ImageBuilder::new()
        .layer("ADD rootfs.tar /", base)
        .layer(
            "RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-pip && apt-get clean && rm -rf /var/lib/apt/lists/* && pip install --no-cache-dir flask",
            |l| {
                l.file_mode("usr/bin/python3.11", vec![b'p'; 6000], 0o755)
                    .symlink("usr/bin/python3", "python3.11")
                    .file("usr/lib/python3/dist-packages/pip/__init__.py", vec![b'i'; 700])
                    .file("usr/local/lib/python3.11/dist-packages/flask/app.py", vec![b'f'; 900])
                    .file("var/lib/dpkg/status", vec![b's'; 400])
                    .dir("var/lib/apt/lists")
                    .file("usr/share/doc/python3/copyright", vec![b'c'; 120])
            },
        )
        .layer("COPY app/ /app/", |l| l.file("app/main.py", "print('ok')\n"))
        .build()
        .unwrap();
    let a = run(&img);
    assert!(
        a.findings.iter().all(|f| f.severity < Severity::High),
        "{:#?}",
        a.findings
    );
    assert!(a.findings.is_empty(), "{:#?}", a.findings);
    assert!(a.suggestions.is_empty());
    assert_eq!(a.efficiency(), 1.0);
}

#[test]
fn reports_validate_against_the_schema() {
    let mut reports = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    for (i, img) in [apt_image(), secret_image()].iter().enumerate() {
        let sub = dir.path().join(i.to_string());
        std::fs::create_dir_all(&sub).unwrap();
        reports.push(write(img, Format::OciLayout, &sub));
    }
    if let Some(c) = corpus() {
        for r in ["apt-waste", "pip-waste", "edge"] {
            reports.push(format!("oci:{}:{r}", c.join("oci").display()));
        }
    }
    for r in &reports {
        let out = bin()
            .args(["analyze", "--format", "json", r])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let errors = schema_errors(&json);
        assert!(errors.is_empty(), "{r}: {errors:#?}");
        assert_eq!(json["schema_version"], 3);
        // The wire form reads back.
        let _: layersift::json::Report = serde_json::from_value(json).unwrap();
    }
}

#[test]
fn markdown_report_goes_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let r = write(&apt_image(), Format::OciLayout, dir.path());
    let file = dir.path().join("report.md");
    bin()
        .args(["analyze", "-f", "markdown", "-o"])
        .arg(&file)
        .arg(&r)
        .assert()
        .success()
        .stdout("");
    let md = std::fs::read_to_string(&file).unwrap();
    insta::with_settings!({filters => vec![(r"oci:[^`\s]*layout", "oci:[LAYOUT]")]}, {
        insta::assert_snapshot!("apt_markdown", md);
    });
    let text = success_stdout(bin().args(["analyze", &r]));
    insta::with_settings!({filters => vec![(r"oci:[^`\s]*layout", "oci:[LAYOUT]")]}, {
        insta::assert_snapshot!("apt_text", text);
    });
}

// ---- The corpus -------------------------------------------------------------------------

fn corpus_analysis(name: &str) -> Option<Analysis> {
    let c = corpus()?;
    let a = analyze(&format!("oci:{}:{name}", c.join("oci").display())).unwrap();
    assert_accounting(&a);
    Some(a)
}

#[test]
fn corpus_apt_waste_lists_are_hidden_in_the_update_layer_and_the_merge_saves_them() {
    let Some(a) = corpus_analysis("apt-waste") else {
        return;
    };
    assert_eq!(a.layers[1].step.instruction, "RUN apt-get update");
    let lists = find(&a, "hidden.removed", 1);
    assert_eq!(lists.hidden_by, Some(3));
    assert!(lists
        .paths
        .iter()
        .all(|p| p.starts_with("/var/lib/apt/lists/")));
    // Every byte layer 1 shipped under /var/lib/apt/lists is hidden, and is this finding.
    let idx = &a.indexes[1];
    let list_bytes: u64 = idx
        .entries
        .iter()
        .enumerate()
        .filter(|(i, _)| idx.path(*i).starts_with(b"var/lib/apt/lists/"))
        .map(|(_, e)| e.size)
        .sum();
    assert_eq!(lists.bytes, list_bytes);
    assert_eq!(list_bytes, 87_257_985);
    let s = suggestion(&a, "merge-apt-steps", 1);
    assert_eq!(s.layers, [1, 2, 3]);
    assert!(s
        .findings
        .iter()
        .any(|&i| std::ptr::eq(&a.findings[i], lists)));
    assert!(s.saves_bytes >= list_bytes);
    assert!(s.snippet.contains("--no-install-recommends curl"));
    assert_savings_add_up(&a, s);
}

#[test]
fn corpus_pip_waste_findings() {
    let Some(a) = corpus_analysis("pip-waste") else {
        return;
    };
    let step = |l: usize| a.layers[l].step.instruction.as_str();
    // apt lists never removed: visible, in the update step.
    let lists = find(&a, "cache.apt-lists", 1);
    assert_eq!(lists.bytes, 87_257_985);
    assert_eq!(step(1), "RUN apt-get update");
    // .deb archives left by the install step.
    let debs = find(&a, "cache.apt-archives", 2);
    assert!(debs.paths.iter().all(|p| p.ends_with(".deb")));
    assert_eq!(debs.path_count, 30);
    assert!(step(2).starts_with("RUN apt-get install"));
    // No pip cache in this image: buildah ran pip with no writable home cache (the recipe's
    // layer holds only /usr/local), so none may be reported.
    assert!(a.findings.iter().all(|f| f.rule != "cache.pip"));
    // The removed private key is a secret although hidden.
    let key = find(&a, "secret.private-key", 4);
    assert_eq!(key.hidden_by, Some(5));
    assert_eq!(key.paths, ["/root/.ssh/id_rsa"]);
    // chmod -R: same-content rewrites.
    let chmod = find(&a, "hidden.overwritten-same", 3);
    assert_eq!(chmod.hidden_by, Some(6));
    assert_eq!(
        chmod.bytes,
        a.layers[3].bytes.content
            - a.layers[3].bytes.overwritten_changed
            - a.layers[3].bytes.removed
            - a.layers[3].bytes.visible
    );
    assert!(step(6).starts_with("RUN chmod -R g+w"));
    assert_eq!(
        suggestion(&a, "set-modes-in-creating-step", 6).saves_bytes,
        chmod.bytes
    );
    // Three logo copies: two are avoidable.
    let logos = a
        .findings
        .iter()
        .find(|f| f.category == Category::Duplicate && f.layer == 7)
        .unwrap();
    assert_eq!(logos.bytes, 2 * 300_000);
    assert_eq!(
        logos.paths,
        ["/app/static/img/logo.bin", "/app/static/logo-copy.bin"]
    );
    assert_eq!(suggestion(&a, "link-duplicates", 7).saves_bytes, 600_000);
    // The ENV token.
    let env = a
        .secrets()
        .find(|f| f.rule == "secret.github-token")
        .unwrap();
    assert_eq!(env.detail.as_deref(), Some("ENV APP_TOKEN: ghp_[REDACTED]"));
    assert_eq!(a.secrets().count(), 2);
    let env_list = a
        .config
        .config()
        .as_ref()
        .and_then(|c| c.env().clone())
        .unwrap();
    assert!(env_list.contains(&"APP_TOKEN=ghp_[REDACTED]".to_string()));
}

#[test]
fn corpus_edge_hidden_findings_match_the_recipe() {
    let Some(a) = corpus_analysis("edge") else {
        return;
    };
    let get = |rule: &str, layer| find(&a, rule, layer).bytes;
    // Layer 3 made the files; layer 4 rewrote big.bin (chmod, same bytes, kept alive through
    // its hard link's name) and k.txt (touch); removed dir/a.txt, dir/sub/b.txt and
    // was-dir/x; replaced was-file by a directory. Layer 5 removed layer 4's big.bin.
    assert_eq!(get("hidden.overwritten-same", 3), 524_288 + 5);
    assert_eq!(get("hidden.removed", 3), 4 + 4 + 2);
    assert_eq!(get("hidden.overwritten-changed", 3), 2);
    assert_eq!(get("hidden.removed", 4), 524_288);
    let hidden: u64 = a
        .findings
        .iter()
        .filter(|f| f.category.is_hidden())
        .map(|f| f.bytes)
        .sum();
    assert_eq!(hidden, 1_048_593);
    assert_eq!(
        a.findings.iter().filter(|f| f.category.is_hidden()).count(),
        4
    );
    assert_eq!(a.secrets().count(), 0);
}

#[test]
fn layers_map_to_non_empty_history_steps_in_dockerfile_form() {
    // Steps as docker classic, buildkit (with build args), buildah and kaniko record them,
    // with empty-layer steps in between.
    let img = ImageBuilder::new()
        .layer("/bin/sh -c #(nop) ADD file:3a2b in / ", base)
        .empty_layer_step("/bin/sh -c #(nop)  CMD [\"bash\"]")
        .empty_layer_step("ARG V=1 # buildkit")
        .layer("RUN |1 V=1 /bin/sh -c apt-get update # buildkit", |l| {
            l.file("var/lib/apt/lists/x_Packages", vec![b'p'; 900])
        })
        .empty_layer_step("ENV A=b")
        .layer("/bin/sh -c #(nop) COPY dir:77ab in /app/ ", |l| {
            l.file("app/tmp.log", "x").file("tmp/t", vec![b't'; 10])
        })
        .layer("RUN rm -rf /var/lib/apt/lists/*", |l| {
            l.whiteout("var/lib/apt/lists/x_Packages")
        })
        .build()
        .unwrap();
    let a = run(&img);
    let steps: Vec<&str> = a
        .layers
        .iter()
        .map(|l| l.step.instruction.as_str())
        .collect();
    assert_eq!(
        steps,
        [
            "ADD <source> /",
            "RUN apt-get update",
            "COPY <source-dir>/ /app/",
            "RUN rm -rf /var/lib/apt/lists/*"
        ]
    );
    let removed = find(&a, "hidden.removed", 1);
    assert_eq!(removed.instruction, "RUN apt-get update");
    assert_eq!(
        find(&a, "temp.tmp", 2).instruction,
        "COPY <source-dir>/ /app/"
    );
    let s = suggestion(&a, "merge-apt-steps", 1);
    assert_eq!(s.instruction, "RUN apt-get update");
    assert_eq!(s.layers, [1, 3]);
}

#[test]
fn secret_suggestions_name_the_env_instruction_or_the_step() {
    let a = run(&secret_image());
    let env = a
        .suggestions
        .iter()
        .find(|s| s.instruction == "ENV API_TOKEN")
        .unwrap();
    assert!(env
        .snippet
        .contains("--mount=type=secret,id=api_token,env=API_TOKEN"));
    let cmd = a
        .suggestions
        .iter()
        .find(|s| s.rule == "secret-mount" && s.instruction.starts_with("RUN GITHUB_TOKEN"))
        .unwrap();
    assert_eq!(
        cmd.instruction,
        "RUN GITHUB_TOKEN=ghp_[REDACTED] ./fetch.sh"
    );
}

#[test]
fn heavy_toolchains_and_docs_get_multi_stage_and_nodoc_suggestions() {
    let img = ImageBuilder::new()
        .layer("ADD rootfs.tar /", base)
        .layer("RUN apt-get install -y --no-install-recommends gcc", |l| {
            l.file("usr/lib/gcc/x86_64-linux-gnu/12/cc1", vec![b'g'; 1_200_000])
                .file("usr/share/doc/gcc/changelog.gz", vec![b'd'; 1_100_000])
                .dir("var/lib/apt/lists")
        })
        .build()
        .unwrap();
    let a = run(&img);
    let ms = suggestion(&a, "multi-stage", 1);
    assert_eq!(ms.saves_bytes, 1_200_000);
    assert!(ms
        .snippet
        .starts_with("FROM <build-image> AS build\nRUN apt-get install"));
    assert!(ms.snippet.contains("COPY --from=build"));
    let nodoc = suggestion(&a, "exclude-docs", 1);
    assert_eq!(nodoc.saves_bytes, 1_100_000);
    assert!(nodoc.snippet.contains("path-exclude /usr/share/doc/*"));
    assert!(nodoc
        .snippet
        .contains("path-include /usr/share/doc/*/copyright"));
    // Optional bytes are reported but are not savings.
    assert_eq!(a.potential_savings(), 0);
    assert_eq!(a.optional_bytes(), 2_300_000);
}
