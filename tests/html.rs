//! The HTML pages (`analyze`, `diff`, `trend` with `--format html`): self-contained, inert
//! against planted markup, readable without script; and, in a real headless Chromium driven
//! through chromedriver, loading with no console error and no request, with a treemap whose
//! cells carry their paths and bytes, and a layer filter that works.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use layersift::json::Report;
use layersift_fixture::{Format, ImageBuilder};
use serde_json::{json, Value};

use crate::util::{bin, corpus, write};

const PLANTED: &str = "<script>alert(1)</script>";
/// An access key id shape the secret rules know, planted in a file name.
const KEY_IN_NAME: &str = "AKIAZ5QW3RT7YU2IOPAS";

/// A headless Chromium driven by chromedriver (Debian's `chromium` and `chromium-driver`),
/// with a fresh profile and no network. `None`, with a note, where either is missing.
pub(crate) struct Browser {
    driver: Child,
    base: String,
    session: String,
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

fn program(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

impl Browser {
    pub(crate) fn start() -> Option<Browser> {
        let (Some(chromium), Some(driver)) = (program("chromium"), program("chromedriver")) else {
            eprintln!("skipping: chromium or chromedriver not installed (Debian packages `chromium`, `chromium-driver`)");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        // The product's TLS provider (ring), which reqwest needs set up even for plain HTTP.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let profile = tempfile::tempdir().unwrap();
        let mut b = Browser {
            driver: child,
            base,
            session: String::new(),
            rt,
            http,
            _profile: profile,
        };
        let start = Instant::now();
        while b.get("/status").is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless", "--no-sandbox", "--disable-gpu",
                         "--disable-background-networking", "--disable-component-update",
                         "--disable-sync", "--no-first-run", "--disable-default-apps",
                         "--window-size=1280,1800",
                         format!("--user-data-dir={}", b._profile.path().display())],
            },
            "goog:loggingPrefs": {"browser": "ALL", "performance": "ALL"},
        }}});
        let r = b.post("/session", caps).expect("new session");
        b.session = r["sessionId"].as_str().unwrap().to_string();
        Some(b)
    }

    pub(crate) fn get(&self, path: &str) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        self.rt.block_on(async {
            let r = self.http.get(url).send().await.map_err(|e| e.to_string())?;
            let v: Value = r.json().await.map_err(|e| e.to_string())?;
            match v["value"].get("error") {
                Some(e) => Err(e.to_string()),
                None => Ok(v["value"].clone()),
            }
        })
    }

    fn post(&self, path: &str, body: Value) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        self.rt.block_on(async {
            let r = self
                .http
                .post(url)
                .json(&body)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let v: Value = r.json().await.map_err(|e| e.to_string())?;
            match v["value"].get("error") {
                Some(e) => Err(format!("{e}: {}", v["value"]["message"])),
                None => Ok(if v.get("sessionId").is_some() {
                    v
                } else {
                    v["value"].clone()
                }),
            }
        })
    }

    pub(crate) fn session(&self, path: &str) -> String {
        format!("/session/{}{path}", self.session)
    }

    pub(crate) fn open(&self, file: &Path) -> String {
        let url = format!("file://{}", file.canonicalize().unwrap().display());
        self.post(&self.session("/url"), json!({"url": url}))
            .unwrap();
        url
    }

    pub(crate) fn eval(&self, script: &str) -> Value {
        self.post(
            &self.session("/execute/sync"),
            json!({"script": script, "args": []}),
        )
        .unwrap()
    }

    pub(crate) fn click(&self, css: &str) {
        let e = self
            .post(
                &self.session("/element"),
                json!({"using": "css selector", "value": css}),
            )
            .unwrap();
        let id = e
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap()
            .to_string();
        self.post(&self.session(&format!("/element/{id}/click")), json!({}))
            .unwrap();
    }

    fn log(&self, kind: &str) -> Vec<Value> {
        self.post(&self.session("/se/log"), json!({"type": kind}))
            .unwrap()
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Console messages at error level (script errors, CSP violations, failed loads).
    pub(crate) fn console_errors(&self) -> Vec<String> {
        self.log("browser")
            .into_iter()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or("").to_string())
            .collect()
    }

    /// Every URL the page asked for, other than the page itself.
    pub(crate) fn requests(&self, page: &str) -> Vec<String> {
        self.log("performance")
            .into_iter()
            .filter_map(|e| serde_json::from_str::<Value>(e["message"].as_str()?).ok())
            .filter(|m| m["message"]["method"] == "Network.requestWillBeSent")
            .filter(|m| m["message"]["params"]["documentURL"] == page)
            .filter_map(|m| {
                m["message"]["params"]["request"]["url"]
                    .as_str()
                    .map(str::to_string)
            })
            .filter(|u| u != page)
            .collect()
    }

    /// Emulates a media type or media features (`prefers-color-scheme`) through DevTools.
    fn emulate_media(&self, params: Value) {
        self.post(
            &self.session("/goog/cdp/execute"),
            json!({"cmd": "Emulation.setEmulatedMedia", "params": params}),
        )
        .unwrap();
    }

    fn screenshot(&self, to: &Path) {
        use base64::Engine as _;
        let v = self.get(&self.session("/screenshot")).unwrap();
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap();
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let url = format!("{}/session/{}", self.base, self.session);
            let _ = self
                .rt
                .block_on(async { self.http.delete(url).send().await });
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Where tests keep what a person may want to look at (a screenshot of the page).
pub(crate) fn artifact(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/test-artifacts")
        .join(name)
}

fn run_ok(args: &[&str]) {
    let out = bin().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "layersift {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Sum of the visible files under `dir`, from the JSON report (independent of the page).
fn bytes_under(report: &Report, dir: &str) -> u64 {
    let prefix = format!("{dir}/");
    report
        .files
        .iter()
        .filter(|f| f.path().starts_with(&prefix))
        .map(|f| f.size())
        .sum()
}

#[test]
fn corpus_page_in_a_real_browser() {
    let Some(corpus) = corpus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let image = format!("oci:{}:pip-waste", corpus.join("oci").display());
    let html = dir.path().join("report.html");
    let json_path = dir.path().join("report.json");
    run_ok(&[
        "analyze",
        &image,
        "--format",
        "html",
        "-o",
        html.to_str().unwrap(),
    ]);
    run_ok(&[
        "analyze",
        &image,
        "--format",
        "json",
        "-o",
        json_path.to_str().unwrap(),
    ]);
    let report: Report = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    let Some(b) = Browser::start() else { return };
    let page = b.open(&html);

    assert_eq!(b.console_errors(), Vec::<String>::new(), "console errors");
    assert_eq!(b.requests(&page), Vec::<String>::new(), "network requests");

    // The treemap's /usr cell: its bytes, and a title that says them.
    let usr = b.eval(
        "const c = document.querySelector('[data-path=\"/usr\"]');
         return c ? [c.getAttribute('data-bytes'), c.title] : null;",
    );
    let expected = bytes_under(&report, "/usr");
    assert!(expected > 0);
    assert_eq!(usr[0], expected.to_string(), "data-bytes of /usr");
    let title = usr[1].as_str().unwrap();
    assert!(title.starts_with("/usr\n"), "{title}");
    assert!(
        title.contains(&format!("{} bytes", group(expected))),
        "{title}"
    );

    assert!(title.contains("\npackage: "), "{title}");
    // A file's cell names the package that owns it (from dpkg's database in the image).
    b.click("[data-path=\"/usr/bin\"]");
    let python = b.eval(
        "const c = document.querySelector('[data-path=\"/usr/bin/python3.11\"]'); return c && c.title;",
    );
    let python = python.as_str().unwrap_or_default();
    assert!(
        python.contains("package: python3.11-minimal ") && python.contains("(dpkg)"),
        "{python}"
    );
    b.click("#crumbs a");
    // The packages table starts with the report's largest package.
    let largest = report.packages.iter().max_by_key(|p| p.bytes).unwrap();
    let first = b.eval("return document.querySelector('#packages tbody tr code').textContent;");
    assert_eq!(first, json!(largest.name));

    // Clicking layer 1 leaves only layer 1's findings.
    let count = "return [...document.querySelectorAll('tr.finding')]
                 .filter(r => !r.hidden).map(r => r.getAttribute('data-layer'));";
    let before = b.eval(count);
    assert_eq!(before.as_array().unwrap().len(), report.findings.len());
    b.click("[data-layer-select=\"1\"]");
    let after = b.eval(count);
    let after = after.as_array().unwrap();
    let layer1 = report.findings.iter().filter(|f| f.layer == 1).count();
    assert!(layer1 > 0 && layer1 < report.findings.len());
    assert_eq!(after.len(), layer1, "only layer 1's findings stay");
    assert!(after.iter().all(|l| l == "1"));
    b.screenshot(&artifact("html-report-layer1.png"));
    b.click("[data-layer-select=\"1\"]");
    assert_eq!(
        b.eval(count).as_array().unwrap().len(),
        report.findings.len()
    );

    // Colour by waste category, then zoom into /var: the page keeps working.
    b.click("input[value=\"waste\"]");
    b.click("[data-path=\"/var\"]");
    let var_children = b.eval(
        "return [...document.querySelectorAll('#treemap > .cell')].map(c => c.getAttribute('data-path'));",
    );
    assert!(
        var_children
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p.as_str().is_none_or(|p| p.starts_with("/var/"))),
        "{var_children}"
    );
    assert_eq!(b.console_errors(), Vec::<String>::new());
    b.screenshot(&artifact("html-report-var.png"));

    // Dark mode: a dark page with light text. Print: no buttons or controls.
    let background = "return getComputedStyle(document.body).backgroundColor;";
    assert_eq!(b.eval(background), "rgb(255, 255, 255)");
    b.emulate_media(json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]}));
    assert_eq!(b.eval(background), "rgb(20, 23, 29)");
    b.screenshot(&artifact("html-report-dark.png"));
    b.emulate_media(json!({"media": "print", "features": []}));
    let shown = b.eval(
        "return [...document.querySelectorAll('button')].filter(e => getComputedStyle(e).display !== 'none').length;",
    );
    assert_eq!(shown, json!(0), "buttons are not printed");
}

/// `1234567` → `1,234,567` (how the page's titles print exact bytes).
fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn planted_image() -> layersift_fixture::BuiltImage {
    ImageBuilder::new()
        .layer("ADD rootfs.tar /", |l| {
            l.dir("app").file("app/main", vec![b'm'; 4000])
        })
        .layer(&format!("RUN echo '{PLANTED}' > /app/x"), |l| {
            l.dir(
                format!("app/{PLANTED}")
                    .split('/')
                    .take(2)
                    .collect::<Vec<_>>()
                    .join("/"),
            )
            .file(format!("app/{PLANTED}.txt"), vec![b'x'; 3000])
            .file("app/x", vec![b'y'; 100])
        })
        .layer("RUN rm /app/x", |l| l.whiteout("app/x"))
        .build()
        .unwrap()
}

#[test]
fn planted_markup_is_inert() {
    let dir = tempfile::tempdir().unwrap();
    let image = write(&planted_image(), Format::OciLayout, dir.path());
    let html = dir.path().join("planted.html");
    run_ok(&[
        "analyze",
        &image,
        "--format",
        "html",
        "-o",
        html.to_str().unwrap(),
    ]);
    let page = std::fs::read_to_string(&html).unwrap();
    // Exactly the page's two script elements: its data block and its own script.
    assert_eq!(page.matches("<script").count(), 2, "script elements");
    assert!(!page.contains(PLANTED));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        !page.contains(KEY_IN_NAME),
        "a secret in a file name is redacted"
    );

    let Some(b) = Browser::start() else { return };
    b.open(&html);
    assert!(
        b.get(&b.session("/alert/text")).is_err(),
        "an alert opened: the planted script ran"
    );
    assert_eq!(b.console_errors(), Vec::<String>::new());
    let scripts = b.eval("return document.scripts.length;");
    assert_eq!(scripts, json!(2));
    // The user still reads the name as it is, as text.
    let text = b.eval("return document.body.innerText;");
    assert!(text.as_str().unwrap().contains(PLANTED));
    let titles = b.eval(
        "return [...document.querySelectorAll('[data-path]')].map(c => c.title + c.getAttribute('data-path')).join('\\n');",
    );
    assert!(!titles.as_str().unwrap().contains(KEY_IN_NAME));
    let cells = b.eval(
        "return [...document.querySelectorAll('[data-path]')].map(c => c.getAttribute('data-path'));",
    );
    assert!(
        cells
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().is_some_and(|p| p.starts_with("/app/"))),
        "{cells}"
    );
}

#[test]
fn page_is_self_contained_and_reads_without_script() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("sample.html");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/sample.oci.tar");
    run_ok(&[
        "analyze",
        sample.to_str().unwrap(),
        "--format",
        "html",
        "-o",
        html.to_str().unwrap(),
    ]);
    let page = std::fs::read_to_string(&html).unwrap();
    let json = bin()
        .args(["analyze", sample.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    let report: Report = serde_json::from_slice(&json.stdout).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("http-equiv=\"Content-Security-Policy\""));
    assert!(page.contains("default-src 'none'"));
    for attr in [" src=", " href=", "@import", "url("] {
        assert!(
            !page.contains(attr),
            "page refers to something outside: {attr}"
        );
    }
    // Summary, layers and findings are in the markup itself, not drawn by script.
    assert!(page.contains("id=\"summary\""));
    assert_eq!(
        page.matches("<tr class=\"layer\"").count(),
        report.layers.len()
    );
    assert_eq!(
        page.matches("<tr class=\"finding ").count(),
        report.findings.len()
    );
    assert_eq!(
        page.matches("<article class=\"suggestion\"").count(),
        report.suggestions.len()
    );
}

#[test]
fn diff_and_trend_pages_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let old = ImageBuilder::new()
        .layer("ADD rootfs.tar /", |l| {
            l.dir("usr/lib").file("usr/lib/a.so", vec![1u8; 5000])
        })
        .build()
        .unwrap();
    let new = ImageBuilder::new()
        .layer("ADD rootfs.tar /", |l| {
            l.dir("usr/lib").file("usr/lib/a.so", vec![1u8; 5000])
        })
        .layer("RUN make install", |l| {
            l.dir("usr/lib").file("usr/lib/b.so", vec![2u8; 7000])
        })
        .build()
        .unwrap();
    let (o, n) = (dir.path().join("o"), dir.path().join("n"));
    std::fs::create_dir_all(&o).unwrap();
    std::fs::create_dir_all(&n).unwrap();
    let (old_ref, new_ref) = (
        write(&old, Format::OciLayout, &o),
        write(&new, Format::OciLayout, &n),
    );
    let diff_html = dir.path().join("diff.html");
    run_ok(&[
        "diff",
        &old_ref,
        &new_ref,
        "--format",
        "html",
        "-o",
        diff_html.to_str().unwrap(),
    ]);
    let history = dir.path().join("sizes.jsonl");
    for r in [&old_ref, &new_ref] {
        run_ok(&["analyze", r, "--history", history.to_str().unwrap()]);
    }
    let trend_html = dir.path().join("trend.html");
    run_ok(&[
        "trend",
        history.to_str().unwrap(),
        "--format",
        "html",
        "-o",
        trend_html.to_str().unwrap(),
    ]);
    let diff_page = std::fs::read_to_string(&diff_html).unwrap();
    assert!(diff_page.contains("<span class=\"status\">added</span>"));
    assert!(diff_page.contains("<span class=\"status\">shared</span>"));
    assert!(diff_page.contains("+7.0 kB"));
    let trend_page = std::fs::read_to_string(&trend_html).unwrap();
    assert_eq!(trend_page.matches("<tr><td>").count(), 2, "two records");

    let Some(b) = Browser::start() else { return };
    let page = b.open(&diff_html);
    assert_eq!(b.console_errors(), Vec::<String>::new());
    assert_eq!(b.requests(&page), Vec::<String>::new());
    // `/` holds only `usr`, which holds only `lib`: the first view goes down to `/usr/lib`.
    let crumbs = b.eval("return document.getElementById('crumbs').textContent;");
    assert!(
        crumbs.as_str().unwrap().starts_with("/ › usr/ › lib/"),
        "{crumbs}"
    );
    let added = b.eval(
        "const c = document.querySelector('[data-path=\"/usr/lib/b.so\"]'); return [c.getAttribute('data-bytes'), c.title];",
    );
    assert_eq!(added[0], "7000");
    assert!(
        added[1].as_str().unwrap().contains("change: +7.0 kB"),
        "{added}"
    );

    let page = b.open(&trend_html);
    assert_eq!(b.console_errors(), Vec::<String>::new());
    assert_eq!(b.requests(&page), Vec::<String>::new());
    // One chart per image (each side is its own image here), three lines each.
    let drawn = b.eval(
        "return [...document.querySelectorAll('svg.chart')].map(s => s.querySelectorAll('path.series').length);",
    );
    assert_eq!(
        drawn,
        json!([3, 3]),
        "content, compressed and waste lines per image"
    );
}

/// The browser checks above can fail: a page that loads a resource and runs a script the
/// policy does not allow shows up in both.
#[test]
fn browser_checks_see_requests_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.html");
    std::fs::write(
        &bad,
        "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" \
         content=\"default-src 'none'; img-src http:\"></head><body>\
         <img src=\"http://127.0.0.1:9/x.png\"><script>document.title = 'ran';</script>\
         </body></html>",
    )
    .unwrap();
    let Some(b) = Browser::start() else { return };
    let page = b.open(&bad);
    assert_eq!(b.requests(&page), ["http://127.0.0.1:9/x.png"]);
    let errors = b.console_errors();
    assert!(
        errors.iter().any(|e| e.contains("Content Security Policy")),
        "{errors:?}"
    );
}
