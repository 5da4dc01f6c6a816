//! `--dockerfile`: layers tied to the lines that made them on the corpus recipes (buildah's
//! history forms) and on fixture images in BuildKit's form, citations in every output,
//! unmapped layers said per layer, and bad Dockerfiles as clear errors.

use std::path::Path;

use layersift::Analysis;
use layersift::Dockerfile;
use layersift::LayerSource;
use layersift_fixture::{Format, ImageBuilder};

use crate::images::{npm_install, npm_package_json};
use crate::util::{
    analyze_cli_with_dockerfile, analyze_dockerfile, bin, corpus, schema_errors, succeeded, write,
};

fn analyze_with_dockerfile(reference: &str, df: &Dockerfile, target: Option<&str>) -> Analysis {
    analyze_dockerfile(reference, df, df.target(target).unwrap())
}

fn lines(a: &Analysis) -> Vec<String> {
    a.dockerfile
        .as_ref()
        .unwrap()
        .mapping
        .layers
        .iter()
        .map(|l| match l {
            LayerSource::Instruction { line, .. } => line.to_string(),
            LayerSource::Base { line, .. } => format!("base@{line}"),
            LayerSource::Unmapped { .. } => "?".to_string(),
        })
        .collect()
}

#[test]
fn corpus_recipes_map_every_layer_to_its_line() {
    let Some(c) = corpus() else { return };
    for (name, expected) in [
        ("apt-waste", vec!["base@1", "2", "3", "4"]),
        (
            "pip-waste",
            vec!["base@1", "2", "3", "4", "5", "6", "7", "8"],
        ),
        ("edge", vec!["2", "3", "4", "5", "12", "16"]),
    ] {
        let df = Dockerfile::read(&c.join(format!("recipes/{name}/Dockerfile")), &[]).unwrap();
        let reference = format!("oci:{}:{name}", c.join("oci").display());
        let a = analyze_with_dockerfile(&reference, &df, None);
        assert_eq!(lines(&a), expected, "{name}");
        // Every finding and suggestion cites a line.
        for f in &a.findings {
            assert!(
                f.source
                    .as_deref()
                    .is_some_and(|s| s.starts_with("Dockerfile:")),
                "{name}: {f:?}"
            );
        }
        for s in &a.suggestions {
            assert!(s.source.is_some(), "{name}: {s:?}");
        }
    }
}

#[test]
fn mapped_steps_use_the_real_lines() {
    let Some(c) = corpus() else { return };
    let df = Dockerfile::read(&c.join("recipes/pip-waste/Dockerfile"), &[]).unwrap();
    let a = analyze_with_dockerfile(
        &format!("oci:{}:pip-waste", c.join("oci").display()),
        &df,
        None,
    );
    // buildah recorded `COPY file:a7f8… in /root/.ssh/id_rsa`; the Dockerfile has the source.
    assert_eq!(
        a.layers[4].step.instruction,
        "COPY secrets/id_rsa /root/.ssh/id_rsa"
    );
    assert_eq!(a.layers[7].step.instruction, "COPY app/ /app/");
    let chmod = a
        .suggestions
        .iter()
        .find(|s| s.rule == "set-modes-in-creating-step")
        .unwrap();
    assert_eq!(chmod.source.as_deref(), Some("Dockerfile:7"));
}

/// An image as BuildKit records it, built from a two-stage Dockerfile.
fn buildkit_image() -> layersift_fixture::BuiltImage {
    ImageBuilder::new()
        .layer("/bin/sh -c #(nop) ADD file:3a2b in / ", |l| {
            l.file("etc/os-release", "ID=debian\n")
        })
        .empty_layer_step("ARG VERSION=1.2 # buildkit")
        .layer("WORKDIR /srv # buildkit", |l| l.dir("srv"))
        .layer(
            "RUN |1 VERSION=1.2 /bin/sh -c apt-get update && apt-get install -y curl # buildkit",
            |l| l.file("var/lib/apt/lists/deb_Packages", vec![b'p'; 5_000]),
        )
        .layer(
            "COPY --from=build /out/app /usr/local/bin/app # buildkit",
            |l| l.file_mode("usr/local/bin/app", vec![b'a'; 3_000], 0o755),
        )
        .layer("RUN /bin/sh -c make # buildkit", |l| l.file("srv/x", "x"))
        .build()
        .unwrap()
}

const TWO_STAGES: &str = "\
ARG VERSION=1.2
FROM golang:1.22 AS build
RUN go build -o /out/app

FROM debian:bookworm
ARG VERSION
WORKDIR /srv
RUN apt-get update \\
 && apt-get install -y curl
COPY --from=build /out/app /usr/local/bin/app
RUN make test
";

#[test]
fn buildkit_history_maps_and_unmapped_layers_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let reference = write(&buildkit_image(), Format::OciLayout, dir.path());
    let df = Dockerfile::parse(Path::new("Dockerfile"), TWO_STAGES, &[]).unwrap();
    let a = analyze_with_dockerfile(&reference, &df, None);
    assert_eq!(lines(&a), ["base@5", "7", "8", "10", "?"]);
    let ctx = a.dockerfile.as_ref().unwrap();
    let why = ctx.mapping.unmapped_reason(4).unwrap();
    assert!(why.contains("`RUN make`"), "{why}");
    assert_eq!(ctx.mapping.unmatched_lines, [11]);
    // The real line keeps `--from`; the apt suggestion cites its line.
    assert_eq!(
        a.layers[3].step.instruction,
        "COPY --from=build /out/app /usr/local/bin/app"
    );
    let apt = a
        .suggestions
        .iter()
        .find(|s| s.rule == "merge-apt-steps")
        .unwrap();
    assert_eq!(apt.source.as_deref(), Some("Dockerfile:8"));

    // The CLI: text cites lines and says which layer is unmapped; JSON carries both.
    let (text, stderr) = analyze_cli_with_dockerfile(dir.path(), &reference, TWO_STAGES, &[]);
    assert!(
        text.contains("Dockerfile  Dockerfile: 3 layers from its lines, 1 from the base image, 1 unmapped; no layer for line 11"),
        "{text}"
    );
    assert!(
        text.contains("(unmapped: no instruction matches `RUN make`"),
        "{text}"
    );
    assert!(
        text.contains("Dockerfile:8  RUN apt-get update && apt-get install -y curl"),
        "{text}"
    );
    assert!(
        stderr.contains("note: 1 of 5 layers match no line"),
        "{stderr}"
    );
    let (json, _) =
        analyze_cli_with_dockerfile(dir.path(), &reference, TWO_STAGES, &["-f", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["layers"][2]["source"], "Dockerfile:8");
    assert!(v["layers"][4]["unmapped"]
        .as_str()
        .unwrap()
        .contains("RUN make"));
    assert!(v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["source"].is_string()));
    // The schema knows the new fields.
    let errors = schema_errors(&v);
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn target_picks_the_stage_that_was_built() {
    let dir = tempfile::tempdir().unwrap();
    let reference = write(&buildkit_image(), Format::OciLayout, dir.path());
    let df = Dockerfile::parse(
        Path::new("Dockerfile"),
        &format!("{TWO_STAGES}\nFROM debian:bookworm AS debug\nRUN apt-get install -y gdb\n"),
        &[],
    )
    .unwrap();
    // Without `--target` the last stage (debug) was built: nothing of it matches.
    let last = analyze_with_dockerfile(&reference, &df, None);
    assert_eq!(last.dockerfile.as_ref().unwrap().mapping.unmapped(), 5);
    let df = Dockerfile::parse(
        Path::new("Dockerfile"),
        &TWO_STAGES.replace("FROM debian:bookworm", "FROM debian:bookworm AS app"),
        &[],
    )
    .unwrap();
    let a = analyze_with_dockerfile(&reference, &df, Some("app"));
    assert_eq!(lines(&a), ["base@5", "7", "8", "10", "?"]);
}

#[test]
fn bad_dockerfiles_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let reference = write(&buildkit_image(), Format::OciLayout, dir.path());
    let missing = dir.path().join("nope/Dockerfile");
    let out = bin()
        .args(["analyze", &reference, "--dockerfile"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.starts_with("error: cannot read Dockerfile `"), "{err}");
    assert!(err.contains("Caused by:") && err.contains("hint:"), "{err}");

    let bad = dir.path().join("Dockerfile");
    std::fs::write(&bad, "RUN echo before any FROM\n").unwrap();
    let out = bin()
        .args(["check", &reference, "--dockerfile"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.starts_with("error: cannot parse Dockerfile `"), "{err}");

    std::fs::write(&bad, TWO_STAGES).unwrap();
    let out = bin()
        .args(["analyze", &reference, "--target", "nope", "--dockerfile"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("has no stage named `nope` (stages: build, 1)"),
        "{err}"
    );

    // `fix` needs a Dockerfile.
    let out = bin().args(["fix", &reference]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("needs the Dockerfile"), "{err}");
}

/// A node image whose `npm install` brought the dev dependencies (jest) in.
fn npm_image() -> layersift_fixture::BuiltImage {
    ImageBuilder::new()
        .layer("/bin/sh -c #(nop) ADD file:3a2b in / ", |l| {
            l.file("etc/os-release", "ID=debian\n")
        })
        .layer("COPY package.json /app/ # buildkit", npm_package_json)
        .layer("RUN /bin/sh -c npm install # buildkit", npm_install)
        .build()
        .unwrap()
}

#[test]
fn fix_rewrites_npm_install_to_npm_ci_omit_dev() {
    let dir = tempfile::tempdir().unwrap();
    let reference = write(&npm_image(), Format::OciLayout, dir.path());
    let df_path = dir.path().join("Dockerfile");
    std::fs::write(
        &df_path,
        "FROM node:22-slim\nCOPY package.json /app/\nRUN npm install\nCMD [\"node\", \"/app\"]\n",
    )
    .unwrap();
    let out = succeeded(
        bin()
            .args(["fix", &reference, "--dry-run", "--dockerfile"])
            .arg(&df_path)
            .output()
            .unwrap(),
    );
    let listing = String::from_utf8(out.stdout).unwrap();
    assert!(
        listing.contains("Dockerfile:3") && listing.contains("npm-omit-dev"),
        "{listing}"
    );
    let patch = dir.path().join("fix.patch");
    succeeded(
        bin()
            .args(["fix", &reference, "-o"])
            .arg(&patch)
            .arg("--dockerfile")
            .arg(&df_path)
            .output()
            .unwrap(),
    );
    let text = std::fs::read_to_string(&patch).unwrap();
    assert!(
        text.contains("+# layersift fix (npm-omit-dev): saves"),
        "{text}"
    );
    assert!(
        text.contains("-RUN npm install\n+# layersift fix (npm-omit-dev)"),
        "{text}"
    );
    assert!(
        text.contains("\n+RUN npm ci --omit=dev \\\n+ && npm cache clean --force\n"),
        "{text}"
    );
}

#[test]
fn tui_layer_details_cite_the_dockerfile_line() {
    use ratatui::backend::TestBackend;
    use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
    use ratatui::layout::Rect;
    use ratatui::Terminal;

    let dir = tempfile::tempdir().unwrap();
    let reference = write(&buildkit_image(), Format::OciLayout, dir.path());
    let df = Dockerfile::parse(Path::new("Dockerfile"), TWO_STAGES, &[]).unwrap();
    let a = analyze_with_dockerfile(&reference, &df, None);
    let mut app = layersift::App::new(std::sync::Arc::new(a), Rect::new(0, 0, 160, 50));
    let screen = |app: &layersift::App| {
        let mut t = Terminal::new(TestBackend::new(160, 50)).unwrap();
        t.draw(|f| app.draw(f)).unwrap();
        t.backend().to_string()
    };
    let down = |app: &mut layersift::App| {
        app.handle(&Event::Key(KeyEvent::new(
            KeyCode::Down,
            KeyModifiers::NONE,
        )));
        app.sync();
    };
    // Layer 2: the apt RUN of line 8.
    down(&mut app);
    down(&mut app);
    assert_eq!(app.layer, 2);
    let s = screen(&app);
    assert!(s.contains("Dockerfile  Dockerfile:8"), "{s}");
    // Layer 4 matches no line: the pane says why.
    down(&mut app);
    down(&mut app);
    let s = screen(&app);
    assert!(
        s.contains("Dockerfile  unmapped: no instruction matches `RUN make`"),
        "{s}"
    );
}

#[test]
fn edge_recipe_merge_hunk_counts_the_chmod_it_absorbs_and_keeps_rm_working() {
    let Some(c) = corpus() else { return };
    let df = Dockerfile::read(&c.join("recipes/edge/Dockerfile"), &[]).unwrap();
    let a = analyze_with_dockerfile(&format!("oci:{}:edge", c.join("oci").display()), &df, None);
    let by_rule = |r: &str| {
        a.suggestions
            .iter()
            .find(|s| s.rule == r)
            .unwrap_or_else(|| panic!("no {r}"))
            .saves_bytes
    };
    let plan = layersift::fix_plan(&a, layersift::FixOptions::default());
    assert_eq!(plan.hunks.len(), 1, "{plan:?}");
    // Merging layers 3–5 also drops the chmod rewrite of layer 4 (rebuilt with buildah:
    // predicted 1048593 B, measured 1048593 B).
    assert_eq!(
        plan.hunks[0].saves_bytes,
        by_rule("merge-runs") + by_rule("set-modes-in-creating-step")
    );
    let text: String = plan.hunks[0]
        .edits
        .iter()
        .flat_map(|e| e.lines.iter().map(|l| format!("{l}\n")))
        .collect();
    // The commands that made these paths are gone: the rm that removes them must not fail.
    assert!(text.contains("&& rm -f /data/was-file"), "{text}");
    assert!(text.contains("&& rm -f /data/big.bin"), "{text}");
    assert!(text.contains("&& rm -rf /data/dir"), "{text}");
}
