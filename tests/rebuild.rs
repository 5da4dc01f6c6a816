//! The proof of `layersift fix`: a real builder (Debian's buildah: `bud --layers`, chroot
//! isolation, vfs storage) builds a small image with the usual waste FROM a static-busybox
//! base that the test makes itself (no network); `fix` writes a patch, `git apply` (and
//! `patch -p1 --dry-run`) take it, buildah rebuilds, and the rebuilt image must be smaller by
//! at least 90% of the predicted saving, with a final filesystem equal to the original's minus
//! exactly the waste the patch removes (same paths, same content hashes).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use layersift::json::visible_files;
use layersift::Analysis;
use layersift::Dockerfile;
use layersift::OpenOptions;
use layersift::{fix_plan as plan, FixOptions as Options};
use layersift_fixture::{Format, ImageBuilder};

use crate::util::{bin, succeeded};

const APPLETS: &[&str] = &[
    "sh", "mkdir", "rm", "chmod", "dd", "yes", "head", "tail", "cat", "ls", "cp", "echo",
];

const DOCKERFILE: &str = "\
FROM localhost/layersift-proof-base:latest
COPY bin/pip /usr/local/bin/pip
COPY . /src
RUN pip install requests
RUN mkdir -p /opt/build \\
 && dd if=/dev/zero of=/opt/build/obj.o bs=1024 count=400 2>/dev/null \\
 && echo built > /opt/app.txt
RUN rm -rf /opt/build
COPY app/ /app/
RUN chmod -R 755 /app
CMD [\"/bin/sh\"]
";

/// A stand-in for pip (the base has no Python): installs a package's files and, unless
/// `--no-cache-dir` is given, leaves a download cache behind as pip does.
const PIP: &str = "#!/bin/sh
cache=1
for a in \"$@\"; do [ \"$a\" = --no-cache-dir ] && cache=0; done
for pkg in \"$@\"; do :; done
mkdir -p /usr/local/lib/python3/site-packages/$pkg
yes \"$pkg code\" | head -c 200000 > /usr/local/lib/python3/site-packages/$pkg/__init__.py
if [ $cache = 1 ]; then
  mkdir -p /root/.cache/pip/http
  yes \"$pkg wheel\" | head -c 500000 > /root/.cache/pip/http/$pkg.whl
fi
";

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

struct Buildah {
    root: PathBuf,
    policy: PathBuf,
}

impl Buildah {
    fn cmd(&self) -> Command {
        let mut c = Command::new("buildah");
        c.arg("--root")
            .arg(self.root.join("root"))
            .arg("--runroot")
            .arg(self.root.join("runroot"))
            .args(["--storage-driver", "vfs"]);
        c
    }

    fn run(&self, args: &[&str]) -> String {
        // Options go before the image or context: the subcommand, then the policy.
        let mut c = self.cmd();
        c.args(&args[..1]);
        if matches!(args.first(), Some(&("pull" | "bud" | "push"))) {
            c.arg("--signature-policy").arg(&self.policy);
        }
        c.args(&args[1..]);
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "buildah {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Builds `ctx` and saves the image as an OCI layout; returns its reference.
    fn build(&self, ctx: &Path, tag: &str, out: &Path) -> String {
        let c = ctx.to_str().unwrap();
        self.run(&[
            "bud",
            "--layers",
            "--isolation",
            "chroot",
            "--pull-never",
            "-t",
            tag,
            "-f",
            &format!("{c}/Dockerfile"),
            c,
        ]);
        let dest = format!("oci:{}:{tag}", out.display());
        self.run(&["push", tag, &dest]);
        dest
    }
}

fn write_context(ctx: &Path) {
    let w = |rel: &str, data: &[u8]| {
        let p = ctx.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    };
    w("Dockerfile", DOCKERFILE.as_bytes());
    w("bin/pip", PIP.as_bytes());
    let mut perms = std::fs::metadata(ctx.join("bin/pip"))
        .unwrap()
        .permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(ctx.join("bin/pip"), perms).unwrap();
    let text = |seed: &str, n: usize| seed.repeat(n / seed.len() + 1).as_bytes()[..n].to_vec();
    w("app/main.sh", &text("echo main\n", 120_000));
    w("app/lib/util.sh", &text("util() { :; }\n", 80_000));
    // A build context with a repository and a host node_modules in it.
    w(".git/HEAD", b"ref: refs/heads/main\n");
    w(".git/config", b"[core]\n\tbare = false\n");
    w(
        ".git/objects/pack/pack-1.pack",
        &text("PACK object data ", 300_000),
    );
    w(
        "node_modules/left-pad/index.js",
        &text("module.exports = 1;\n", 150_000),
    );
    w(
        "node_modules/left-pad/package.json",
        b"{\"name\":\"left-pad\"}\n",
    );
}

fn analyze(reference: &str, df: Option<&Dockerfile>) -> Analysis {
    layersift::analyze_reference_with(
        reference,
        &OpenOptions::default(),
        &layersift::NoProgress,
        df.map(|d| (d, d.stages.len() - 1)),
    )
    .unwrap()
}

#[test]
fn fix_patch_rebuilds_smaller_with_the_same_files_minus_the_waste() {
    for program in ["buildah", "git", "patch"] {
        if !have(program) {
            crate::util::skip(&format!(
                "rebuild proof: `{program}` not found (.ci/run installs it)"
            ));
            return;
        }
    }
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.is_file());
    let Some(busybox) = busybox else {
        crate::util::skip("rebuild proof: static busybox not found (Debian busybox-static)");
        return;
    };
    let uid = Command::new("id").arg("-u").output().unwrap();
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        crate::util::skip("rebuild proof: buildah with chroot isolation and vfs needs root here");
        return;
    }
    // buildah names an image pulled from `oci:DIR` after DIR, and names must be lowercase:
    // a temp dir whose name has no random (mixed-case) part.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = tempfile::Builder::new()
        .prefix(&format!("layersift-proof-{}-{nanos}", std::process::id()))
        .rand_bytes(0)
        .tempdir()
        .unwrap();
    let d = dir.path();
    let policy = d.join("policy.json");
    std::fs::write(
        &policy,
        r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
    )
    .unwrap();
    let b = Buildah {
        root: d.join("storage"),
        policy,
    };

    // The base: static busybox and its applets, in an OCI layout the fixture writes.
    let bytes = std::fs::read(busybox).unwrap();
    let base = ImageBuilder::new()
        .layer("ADD rootfs.tar /", |l| {
            APPLETS.iter().fold(
                l.file_mode("bin/busybox", bytes.clone(), 0o755).dir("tmp"),
                |l, a| l.symlink(format!("bin/{a}"), "busybox"),
            )
        })
        .build()
        .unwrap();
    base.write(Format::OciLayout, d.join("base")).unwrap();
    let id = b.run(&["pull", "-q", &format!("oci:{}", d.join("base").display())]);
    b.run(&["tag", id.trim(), "localhost/layersift-proof-base:latest"]);

    let ctx = d.join("ctx");
    write_context(&ctx);
    let before = b.build(&ctx, "proof-before", &d.join("before"));

    // `layersift fix`, run where the Dockerfile is, as a user would.
    let patch = d.join("fix.patch");
    succeeded(
        bin()
            .current_dir(&ctx)
            .args(["fix", &before, "--dockerfile", "Dockerfile", "-o"])
            .arg(&patch)
            .output()
            .unwrap(),
    );
    let text = std::fs::read_to_string(&patch).unwrap();
    eprintln!("{text}");
    for expected in [
        "# layersift fix (pip-no-cache-dir): saves",
        "# layersift fix (merge-runs): saves",
        "# layersift fix (set-modes-in-creating-step): saves",
        "+COPY --chmod=755 app/ /app/",
        "+++ b/.dockerignore",
        "+.git\n",
        "+node_modules\n",
        "+Dockerfile\n",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    // Both tools accept it; git applies it.
    let p = Command::new("patch")
        .current_dir(&ctx)
        .args(["-p1", "--dry-run", "-i"])
        .arg(&patch)
        .output()
        .unwrap();
    assert!(p.status.success(), "{}", String::from_utf8_lossy(&p.stdout));
    succeeded(
        Command::new("git")
            .current_dir(&ctx)
            .arg("apply")
            .arg(&patch)
            .output()
            .unwrap(),
    );

    // The prediction, from the same analysis `fix` made.
    let df = Dockerfile::parse(&ctx.join("Dockerfile"), DOCKERFILE, &[]).unwrap();
    let a_before = analyze(&before, Some(&df));
    let predicted = plan(&a_before, Options::default()).saves_bytes();

    let after = b.build(&ctx, "proof-after", &d.join("after"));
    let a_after = analyze(&after, None);
    let measured = a_before.totals.content - a_after.totals.content;
    eprintln!("rebuild proof: predicted saving {predicted} B, measured {measured} B");
    assert!(predicted > 1_000_000, "predicted {predicted}");
    assert!(
        measured as f64 >= 0.9 * predicted as f64,
        "measured {measured} < 90% of predicted {predicted}"
    );

    // The final filesystem is the original's minus exactly the removed waste.
    let files = |a: &Analysis| -> BTreeMap<String, String> {
        visible_files(a)
            .into_iter()
            .map(|r| (r.path().to_string(), r.content_id().to_string()))
            .collect()
    };
    let waste = |p: &str| {
        p.starts_with("/root/.cache/pip/")
            || p.starts_with("/src/.git/")
            || p.starts_with("/src/node_modules/")
            || p == "/src/Dockerfile"
    };
    let mut expected = files(&a_before);
    let removed: Vec<String> = expected.keys().filter(|p| waste(p)).cloned().collect();
    assert!(removed.len() >= 6, "{removed:?}");
    for p in &removed {
        expected.remove(p);
    }
    assert_eq!(files(&a_after), expected);
}
