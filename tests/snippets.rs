//! Every suggestion kind, on the same image built twice: once with the history BuildKit
//! writes (`RUN /bin/sh -c … # buildkit`, `COPY app.sh /usr/local/bin/app # buildkit`) and
//! once with the history the classic builder and buildah write (`/bin/sh -c …`,
//! `/bin/sh -c #(nop) COPY file:… in /usr/local/bin/app `). Each snippet must be a Dockerfile
//! a parser takes, carry no history form (`#(nop)`, `file:…`, `/bin/sh -c`, `# buildkit`),
//! use the real source where BuildKit's line names it and a plain `<source>` where the
//! history does not, and otherwise read the same from both builders.

use std::path::Path;

use layersift::{Analysis, Dockerfile, Suggestion};
use layersift_fixture::{Format, ImageBuilder, LayerBuilder};

use crate::images::{npm_install, npm_package_json};
use crate::util::{analyze, write};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Form {
    BuildKit,
    Classic,
}

/// A build step as `form`'s builder writes it in the history.
enum Step<'a> {
    Run(&'a str),
    /// `COPY [flags] SOURCE DEST`; the classic form names a file or a directory by hash.
    Copy {
        flags: &'a str,
        src: &'a str,
        dest: &'a str,
        dir: bool,
    },
}

fn created_by(form: Form, step: &Step<'_>) -> String {
    match (form, step) {
        (Form::BuildKit, Step::Run(cmd)) => format!("RUN /bin/sh -c {cmd} # buildkit"),
        (Form::Classic, Step::Run(cmd)) => format!("/bin/sh -c {cmd}"),
        (Form::BuildKit, Step::Copy { flags, src, dest, .. }) => {
            format!("COPY {flags}{}{src} {dest} # buildkit", sep(flags))
        }
        (Form::Classic, Step::Copy { flags, dest, dir, .. }) => format!(
            "/bin/sh -c #(nop) COPY {flags}{}{}:5e1c0a7f3d9b2468ace0f1e2d3c4b5a6978877665544332211ffeeddccbbaa99 in {dest} ",
            sep(flags),
            if *dir { "dir" } else { "file" }
        ),
    }
}

fn sep(flags: &str) -> &'static str {
    if flags.is_empty() {
        ""
    } else {
        " "
    }
}

type Fill = fn(LayerBuilder) -> LayerBuilder;

/// The base image's root filesystem, as both builders' images start from it.
fn rootfs(l: LayerBuilder) -> LayerBuilder {
    l.file("etc/os-release", "ID=debian\n")
        .file("bin/sh", vec![b's'; 300])
}

/// An image of the base layer and `steps`, each step's history in `form`.
fn image(form: Form, steps: &[(Step<'_>, Fill)]) -> Analysis {
    let mut b = ImageBuilder::new().layer("/bin/sh -c #(nop) ADD file:0b5e in / ", rootfs);
    for (step, fill) in steps {
        b = b.layer(&created_by(form, step), *fill);
    }
    let dir = tempfile::tempdir().unwrap();
    analyze(&write(&b.build().unwrap(), Format::OciLayout, dir.path())).unwrap()
}

fn find<'a>(a: &'a Analysis, rule: &str, form: Form) -> &'a Suggestion {
    a.suggestions
        .iter()
        .find(|s| s.rule == rule)
        .unwrap_or_else(|| panic!("no {rule} ({form:?}) in {:#?}", a.suggestions))
}

/// What every snippet must be, whichever builder wrote the history.
fn check_lines(s: &Suggestion, form: Form) {
    let what = format!("{} ({form:?}):\n{}", s.rule, s.snippet);
    for form_only in [
        "#(nop)",
        "# buildkit",
        "/bin/sh -c",
        "file:5e1c",
        "dir:5e1c",
        "file:0b5e",
    ] {
        assert!(!s.snippet.contains(form_only), "history form in {what}");
    }
    assert!(!s.snippet.contains("ghp_abcdefghij"), "a secret in {what}");
    // `.dockerignore` lines are not Dockerfile lines; everything else must parse.
    if s.rule != "exclude-from-context" {
        let text = if s.snippet.starts_with("FROM ") {
            format!("{}\n", s.snippet)
        } else {
            format!("FROM scratch\n{}\n", s.snippet)
        };
        if let Err(e) = Dockerfile::parse(Path::new("Dockerfile"), &text, &[]) {
            panic!("not a Dockerfile: {e}\n{what}");
        }
    }
}

/// Both forms: the same kind, valid lines, the BuildKit snippet naming `source` where the
/// classic one says `<source>`, and otherwise the same text.
fn both(rule: &str, steps: &dyn Fn() -> Vec<(Step<'static>, Fill)>, source: Option<(&str, &str)>) {
    let bk = image(Form::BuildKit, &steps());
    let cl = image(Form::Classic, &steps());
    let (s_bk, s_cl) = (
        find(&bk, rule, Form::BuildKit),
        find(&cl, rule, Form::Classic),
    );
    check_lines(s_bk, Form::BuildKit);
    check_lines(s_cl, Form::Classic);
    assert_eq!(s_bk.saves_bytes, s_cl.saves_bytes, "{rule}");
    match source {
        Some((src, placeholder)) => {
            assert!(s_bk.snippet.contains(src), "{rule}: {}", s_bk.snippet);
            assert!(!s_cl.snippet.contains(src), "{rule}: {}", s_cl.snippet);
            assert_eq!(
                s_bk.snippet.replace(src, placeholder),
                s_cl.snippet,
                "{rule}: the classic snippet is the BuildKit one with `{placeholder}`"
            );
        }
        None => assert_eq!(s_bk.snippet, s_cl.snippet, "{rule}"),
    }
}

fn run(cmd: &'static str, fill: Fill) -> (Step<'static>, Fill) {
    (Step::Run(cmd), fill)
}

#[test]
fn apt_merge() {
    both(
        "merge-apt-steps",
        &|| {
            vec![
                run("apt-get update", |l| {
                    l.file("var/lib/apt/lists/deb_Packages", vec![b'p'; 40_000])
                }),
                run("apt-get install -y curl", |l| {
                    l.file("usr/bin/curl", vec![b'c'; 500])
                }),
                run("rm -rf /var/lib/apt/lists/*", |l| {
                    l.whiteout("var/lib/apt/lists/deb_Packages")
                }),
            ]
        },
        None,
    );
}

#[test]
fn package_manager_caches() {
    let cases: [(&str, &'static str, Fill); 7] = [
        ("pip-no-cache-dir", "pip install flask", |l| {
            l.file("root/.cache/pip/http-v2/a/b", vec![b'w'; 9_000])
        }),
        ("apk-no-cache", "apk add curl", |l| {
            l.file("var/cache/apk/APKINDEX.1.tar.gz", vec![b'i'; 9_000])
        }),
        ("npm-cache-clean", "npm ci", |l| {
            l.file("root/.npm/_cacache/content-v2/x", vec![b'n'; 9_000])
        }),
        ("yarn-cache-clean", "yarn install", |l| {
            l.file("usr/local/share/.cache/yarn/v6/x", vec![b'y'; 9_000])
        }),
        ("dnf-clean-all", "dnf install -y curl", |l| {
            l.file("var/cache/dnf/x.solv", vec![b'd'; 9_000])
        }),
        ("zypper-clean", "zypper install -y curl", |l| {
            l.file("var/cache/zypp/raw/x", vec![b'z'; 9_000])
        }),
        ("cache-mount", "go build ./...", |l| {
            l.file("root/.cache/go-build/00/x", vec![b'g'; 9_000])
        }),
    ];
    for (rule, cmd, fill) in cases {
        both(rule, &|| vec![run(cmd, fill)], None);
    }
}

#[test]
fn delete_in_the_creating_step() {
    both(
        "merge-runs",
        &|| {
            vec![
                run(
                    "mkdir -p /opt/build && echo built > /opt/build/out.o",
                    |l| l.file("opt/build/out.o", vec![b'o'; 20_000]),
                ),
                run("rm -rf /opt/build", |l| l.whiteout("opt/build")),
            ]
        },
        None,
    );
}

#[test]
fn copied_then_deleted_stays_out_of_the_context() {
    both(
        "exclude-from-context",
        &|| {
            vec![
                (
                    Step::Copy {
                        flags: "",
                        src: ".",
                        dest: "/app/",
                        dir: true,
                    },
                    |l| {
                        l.file("app/main.py", "print(1)\n")
                            .file("app/big-test-data.bin", vec![b'b'; 20_000])
                    },
                ),
                run("rm /app/big-test-data.bin", |l| {
                    l.whiteout("app/big-test-data.bin")
                }),
            ]
        },
        // The .dockerignore line is the file's path in the build context, not in the image.
        Some((
            "\nbig-test-data.bin\nCOPY . ",
            "\n<source-dir>/big-test-data.bin\nCOPY <source-dir>/ ",
        )),
    );
}

/// `COPY [flags] SRC /usr/local/bin/app` (mode 644), then a `chmod 755` of the same bytes.
fn copy_then_chmod(flags: &'static str, src: &'static str) -> Vec<(Step<'static>, Fill)> {
    vec![
        (
            Step::Copy {
                flags,
                src,
                dest: "/usr/local/bin/app",
                dir: false,
            },
            |l| l.file_mode("usr/local/bin/app", vec![b'a'; 8_000], 0o644),
        ),
        run("chmod 755 /usr/local/bin/app", |l| {
            l.file_mode("usr/local/bin/app", vec![b'a'; 8_000], 0o755)
        }),
    ]
}

#[test]
fn modes_in_the_creating_step() {
    // A COPY whose file a later `chmod` rewrites byte for byte: `COPY --chmod` on the COPY,
    // with the real source from BuildKit and `<source>` from the classic history.
    both(
        "set-modes-in-creating-step",
        &|| copy_then_chmod("", "app.sh"),
        Some(("app.sh", "<source>")),
    );
    // A COPY from a build stage keeps its `--from`.
    both(
        "set-modes-in-creating-step",
        &|| copy_then_chmod("--from=build", "/out/app"),
        Some(("/out/app", "<source>")),
    );
    // A RUN that writes a file an earlier RUN made, byte for byte, and is no chmod.
    both(
        "avoid-identical-rewrite",
        &|| {
            vec![
                run("echo conf > /etc/app.conf && make", |l| {
                    l.file("etc/app.conf", vec![b'c'; 8_000])
                }),
                run("./configure --write-conf", |l| {
                    l.file("etc/app.conf", vec![b'c'; 8_000])
                }),
            ]
        },
        None,
    );
}

#[test]
fn duplicates_temp_files_docs_toolchains_and_secrets() {
    both(
        "link-duplicates",
        &|| {
            vec![run("./install.sh", |l| {
                l.file("opt/a/logo.png", vec![b'L'; 70_000])
                    .file("opt/b/logo.png", vec![b'L'; 70_000])
            })]
        },
        None,
    );
    both(
        "delete-temp-files",
        &|| {
            vec![run("./build.sh", |l| {
                l.file("tmp/build/obj.o", vec![b't'; 9_000])
                    .file("usr/local/bin/tool", vec![b'x'; 100])
            })]
        },
        None,
    );
    let toolchain: fn() -> Vec<(Step<'static>, Fill)> = || {
        vec![run("apt-get install -y --no-install-recommends gcc", |l| {
            l.file("usr/lib/gcc/x86_64-linux-gnu/12/cc1", vec![b'g'; 1_200_000])
                .file("usr/share/doc/gcc/changelog.gz", vec![b'd'; 1_100_000])
        })]
    };
    both("multi-stage", &toolchain, None);
    both("exclude-docs", &toolchain, None);
    both(
        "secret-mount",
        &|| {
            vec![(
                Step::Copy {
                    flags: "",
                    src: "keys/deploy",
                    dest: "/root/.ssh/id_rsa",
                    dir: false,
                },
                |l| {
                    l.file(
                        "root/.ssh/id_rsa",
                        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n",
                    )
                },
            )]
        },
        Some(("./keys/deploy", "<path to id_rsa>")),
    );
}

#[test]
fn package_suggestions() {
    both(
        "purge-build-packages",
        &|| {
            vec![run("apt-get install -y libfoo-dev", |l| {
                l.file("usr/lib/x86_64-linux-gnu/libfoo.so", vec![1u8; 3000])
                    .file("usr/share/pkgconfig/foo.pc", vec![2u8; 9000])
                    .file(
                        "var/lib/dpkg/status",
                        "Package: libfoo-dev\nVersion: 1\n\nPackage: libfoo1\nVersion: 1\n",
                    )
                    .file(
                        "var/lib/dpkg/info/libfoo-dev.list",
                        "/usr/share/pkgconfig/foo.pc\n",
                    )
                    .file(
                        "var/lib/dpkg/info/libfoo1.list",
                        "/usr/lib/x86_64-linux-gnu/libfoo.so\n",
                    )
            })]
        },
        None,
    );
    both(
        "npm-omit-dev",
        &|| {
            vec![
                (
                    Step::Copy {
                        flags: "",
                        src: "package.json",
                        dest: "/app/",
                        dir: false,
                    },
                    npm_package_json,
                ),
                run("npm install", npm_install),
            ]
        },
        None,
    );
    both(
        "python-slim-site-packages",
        &|| {
            vec![run("pip install requests", |l| {
                let sp = "usr/local/lib/python3.11/site-packages";
                l.file(format!("{sp}/requests/__init__.py"), vec![b'#'; 4000])
                    .file(
                        format!("{sp}/requests/__pycache__/__init__.cpython-311.pyc"),
                        vec![0u8; 2500],
                    )
                    .file(format!("{sp}/requests/tests/test_api.py"), vec![b'#'; 1200])
                    .file(
                        format!("{sp}/requests-2.32.3.dist-info/METADATA"),
                        "Metadata-Version: 2.1\nName: requests\nVersion: 2.32.3\n",
                    )
                    .file(
                        format!("{sp}/requests-2.32.3.dist-info/RECORD"),
                        "requests/__init__.py,sha256=x,4000\nrequests/__pycache__/__init__.cpython-311.pyc,,\n\
                         requests/tests/test_api.py,,\nrequests-2.32.3.dist-info/METADATA,,\n\
                         requests-2.32.3.dist-info/RECORD,,\n",
                    )
            })]
        },
        None,
    );
}

#[test]
fn a_token_on_a_run_line() {
    both(
        "secret-mount",
        &|| {
            vec![run(
                "GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789 ./fetch.sh",
                |l| l.file("opt/fetched", vec![b'f'; 100]),
            )]
        },
        None,
    );
}
