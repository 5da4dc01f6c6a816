//! The registry test harness: a real `docker-registry` on 127.0.0.1 with a private home
//! (htpasswd auth when asked), pushing with skopeo, running the binary and reading its
//! report, a TCP proxy that injects faults, and a token-auth front (bearer challenges,
//! identity-token exchange, tokens that lapse).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use layersift_fixture::{Format, ImageBuilder};
use serde_json::Value;
use tempfile::TempDir;

pub(super) use crate::util::layersift_at as layersift;

pub(super) const USER: &str = "reguser";
pub(super) const PASS: &str = "Sekr1t-pass";

pub(super) fn have(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

pub(super) fn tools_present() -> bool {
    for p in ["docker-registry", "skopeo", "htpasswd"] {
        if !have(p) {
            crate::util::skip(&format!(
                "`{p}` not found (apt-get install docker-registry skopeo apache2-utils)"
            ));
            return false;
        }
    }
    true
}

/// A running registry (with htpasswd auth when asked) and a private home directory, or
/// `None` with a printed note when the programs are missing.
pub(super) fn registry(auth: bool) -> Option<(Registry, tempfile::TempDir)> {
    if !tools_present() {
        return None;
    }
    Some((Registry::start(auth), tempfile::tempdir().unwrap()))
}

pub(super) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(super) fn wait_for_port(ip: &str, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect((ip, port)).is_err() {
        assert!(Instant::now() < deadline, "registry did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A `docker-registry` process serving from a temp dir; killed on drop.
pub(super) struct Registry {
    pub(super) ip: &'static str,
    pub(super) dir: TempDir,
    pub(super) port: u16,
    pub(super) child: Option<Child>,
    pub(super) auth: bool,
}

impl Registry {
    pub(super) fn start(auth: bool) -> Registry {
        Registry::start_on("127.0.0.1", auth)
    }

    pub(super) fn start_on(ip: &'static str, auth: bool) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\n\
             storage:\n  filesystem:\n    rootdirectory: {}\n\
             http:\n  addr: {ip}:{port}\n",
            dir.path().join("data").display()
        );
        if auth {
            let out = Command::new("htpasswd")
                .args(["-Bbn", USER, PASS])
                .output()
                .unwrap();
            assert!(out.status.success());
            std::fs::write(dir.path().join("htpasswd"), out.stdout).unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: test\n    path: {}\n",
                dir.path().join("htpasswd").display()
            ));
        }
        std::fs::write(dir.path().join("config.yml"), config).unwrap();
        let log = std::fs::File::create(dir.path().join("log")).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(dir.path().join("config.yml"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        wait_for_port(ip, port);
        Registry {
            ip,
            dir,
            port,
            child: Some(child),
            auth,
        }
    }

    pub(super) fn host(&self) -> String {
        format!("{}:{}", self.ip, self.port)
    }

    /// Copies an image into the registry as `NAME:TAG` with skopeo.
    pub(super) fn push(&self, src: &str, name: &str, all: bool) {
        let mut cmd = Command::new("skopeo");
        cmd.args(["copy", "--quiet", "--dest-tls-verify=false"]);
        if all {
            cmd.arg("--all");
        }
        if self.auth {
            cmd.arg(format!("--dest-creds={USER}:{PASS}"));
        }
        let out = cmd
            .arg(src)
            .arg(format!("docker://{}/{name}", self.host()))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "skopeo copy failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub(super) fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(self.dir.path().join("log")).unwrap()).into_owned()
    }

    /// Blob downloads (`GET …/blobs/sha256:…`) the registry has logged so far.
    pub(super) fn blob_gets(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter(|l| l.contains("\"GET /v2/") && l.contains("/blobs/sha256:"))
            .filter_map(|l| l.split("/blobs/").nth(1))
            .filter_map(|l| l.split(' ').next())
            .map(str::to_string)
            .collect()
    }

    /// The file holding a blob in the registry's storage.
    pub(super) fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    pub(super) fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

pub(super) struct Run {
    pub(super) code: i32,
    pub(super) stdout: String,
    pub(super) stderr: String,
}

pub(super) fn run(mut cmd: Command) -> Run {
    let out = cmd.output().unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.stdout.contains(PASS) && !run.stderr.contains(PASS),
        "a password leaked into the output"
    );
    run
}

/// The JSON report of an image, minus the fields that name where it was read from.
pub(super) fn report(home: &Path, image: &str, extra: &[&str]) -> Value {
    let mut cmd = layersift(home);
    cmd.args(["analyze", "-f", "json", image]).args(extra);
    let r = run(cmd);
    assert_eq!(r.code, 0, "analyze {image} failed: {}", r.stderr);
    let mut v: Value = serde_json::from_str(&r.stdout).unwrap();
    let img = v["image"].as_object_mut().unwrap();
    img.remove("reference");
    img.remove("transport");
    v
}

pub(super) fn reference_of(home: &Path, image: &str) -> String {
    let mut cmd = layersift(home);
    cmd.args(["analyze", "-f", "json", "--no-cache", image]);
    let r = run(cmd);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    v["image"]["reference"].as_str().unwrap().to_string()
}

/// Two images sharing a first layer, built deterministically.
pub(super) fn fixture_pair(dir: &Path) -> (PathBuf, PathBuf, String) {
    let base = |b: ImageBuilder| {
        b.layer("ADD rootfs /", |l| {
            l.dir("etc")
                .file("etc/os-release", "ID=test\n")
                .file("usr/lib/big.bin", vec![7u8; 300_000])
                .file(
                    "root/.ssh/id_rsa",
                    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo\n\
                     -----END RSA PRIVATE KEY-----\n",
                )
        })
    };
    let a = base(ImageBuilder::new()).build().unwrap();
    let b = base(ImageBuilder::new())
        .layer("RUN echo hi > /hi", |l| l.file("hi", "hi\n"))
        .build()
        .unwrap();
    assert_eq!(a.layers[0].digest, b.layers[0].digest);
    let (pa, pb) = (dir.join("a"), dir.join("b"));
    a.write(Format::OciLayout, &pa).unwrap();
    b.write(Format::OciLayout, &pb).unwrap();
    (pa, pb, a.layers[0].digest.clone())
}

pub(super) fn write_helper(bin: &Path, name: &str, user: &str, pass: &str) {
    let script = bin.join(format!("docker-credential-{name}"));
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nread server\necho \"$server\" >> \"$(dirname \"$0\")/asked\"\n\
             printf '{{\"ServerURL\":\"%s\",\"Username\":\"{user}\",\"Secret\":\"{pass}\"}}' \"$server\"\n"
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// What a [`proxy`] in front of the registry does to the traffic.
pub(super) enum Fault {
    /// Answers the first `n` connections with `503 Service Unavailable`.
    FailFirst(usize),
    /// Drops the connection once `limit` bytes went to the client, once; then forwards.
    CutOnce(u64),
    /// Once `limit` bytes went to the client, calls `stop` (which stops the registry) and
    /// drops every connection from then on.
    Stop(u64, Box<dyn FnOnce() + Send>),
}

/// Starts a TCP proxy to `127.0.0.1:upstream` that injects `fault`; returns its port.
pub(super) fn proxy(upstream: u16, fault: Fault) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (limit, fail_first, stays_down) = match &fault {
        Fault::FailFirst(n) => (u64::MAX, *n, false),
        Fault::CutOnce(l) => (*l, 0, false),
        Fault::Stop(l, _) => (*l, 0, true),
    };
    let on_cut = Arc::new(Mutex::new(match fault {
        Fault::Stop(_, f) => Some(f),
        _ => None,
    }));
    let sent = Arc::new(AtomicU64::new(0));
    let cut = Arc::new(AtomicBool::new(false));
    std::thread::spawn(move || {
        for (i, client) in listener.incoming().enumerate() {
            let Ok(mut client) = client else { continue };
            if i < fail_first {
                let mut buf = [0u8; 64 * 1024];
                let _ = client.read(&mut buf);
                let _ = client.write_all(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                let _ = client.shutdown(Shutdown::Both);
                continue;
            }
            if stays_down && cut.load(Ordering::SeqCst) {
                let _ = client.shutdown(Shutdown::Both);
                continue;
            }
            let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                continue;
            };
            let (mut c_read, mut s_write) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c_read, &mut s_write);
                let _ = s_write.shutdown(Shutdown::Write);
            });
            let (sent, cut, on_cut) = (sent.clone(), cut.clone(), on_cut.clone());
            let (mut s_read, mut c_write) = (server, client);
            std::thread::spawn(move || {
                let mut buf = [0u8; 16 * 1024];
                loop {
                    let n = match s_read.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    if (stays_down && cut.load(Ordering::SeqCst))
                        || c_write.write_all(&buf[..n]).is_err()
                    {
                        break;
                    }
                    let total = sent.fetch_add(n as u64, Ordering::SeqCst) + n as u64;
                    if total > limit && !cut.swap(true, Ordering::SeqCst) {
                        if let Some(f) = on_cut.lock().unwrap().take() {
                            f();
                        }
                        break;
                    }
                }
                let _ = c_write.shutdown(Shutdown::Both);
                let _ = s_read.shutdown(Shutdown::Both);
            });
        }
    });
    port
}

/// Reads one HTTP request head (up to the blank line); `None` when the peer closed.
pub(super) fn read_head(s: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

pub(super) fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

pub(super) const TOKEN: &str = "tok-3f9a";

/// Who a [`token_front`] hands its token to.
#[derive(Clone, Copy)]
pub(super) enum Grant<'a> {
    /// Anyone asking with `GET /token` (anonymous pulls, as on Docker Hub).
    Anyone,
    /// `GET /token` with these basic credentials.
    Basic(&'a str, &'a str),
    /// `POST /token` with `grant_type=refresh_token` and this refresh (identity) token, the
    /// OAuth2 way of the distribution token spec; nothing else.
    Refresh(&'a str),
}

/// One request to a [`token_front`]'s `/token`: its method, `Authorization` header and,
/// for a `POST`, its form fields (decoded).
#[derive(Clone, Debug)]
pub(super) struct TokenRequest {
    pub(super) method: String,
    pub(super) authorization: String,
    pub(super) form: Vec<(String, String)>,
}

impl TokenRequest {
    pub(super) fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Decodes an `application/x-www-form-urlencoded` body.
pub(super) fn form_decode(body: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < b.len() => {
                    let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                    i += 2;
                }
                c => out.push(c),
            }
            i += 1;
        }
        String::from_utf8(out).unwrap()
    };
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// A token-auth front for the registry, as Docker Hub, GHCR and ACR do it: `/v2/…` needs
/// `Authorization: Bearer TOKEN`, else answers 401 with a `Bearer realm=…/token` challenge;
/// `/token` hands the token out as `grant` says (a refused `POST` gets OAuth2's
/// `400 invalid_grant`). Returns the port and the requests sent to `/token`.
pub(super) fn token_front(upstream: u16, grant: Grant<'_>) -> (u16, Arc<Mutex<Vec<TokenRequest>>>) {
    token_front_with(upstream, grant, Lapse::Never)
}

/// Which tokens a [`token_front_with`] stops taking for blobs once the first blob (the
/// config) has been served.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Lapse {
    Never,
    /// The first token handed out, as when it expires during a long pull.
    First,
    /// Every token: a registry whose tokens do not grant the layers.
    All,
}

/// A [`token_front`] that numbers the tokens it hands out (`TOKEN-0`, `TOKEN-1`, …) and
/// answers `401 invalid_token` to blob requests carrying a token that has lapsed.
pub(super) fn token_front_with(
    upstream: u16,
    grant: Grant<'_>,
    lapse: Lapse,
) -> (u16, Arc<Mutex<Vec<TokenRequest>>>) {
    use base64::Engine as _;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    // What a `GET /token` must carry (`None`: anything), or the refresh token a `POST`
    // must carry.
    let (want_get, want_refresh): (Option<Option<String>>, Option<String>) = match grant {
        Grant::Anyone => (Some(None), None),
        Grant::Basic(u, p) => (
            Some(Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            ))),
            None,
        ),
        Grant::Refresh(t) => (None, Some(t.to_string())),
    };
    let log = seen.clone();
    let issued = Arc::new(AtomicU64::new(0));
    let first_blobs = Arc::new(AtomicU64::new(0));
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { continue };
            let (want_get, want_refresh, log) =
                (want_get.clone(), want_refresh.clone(), log.clone());
            let (issued, first_blobs) = (issued.clone(), first_blobs.clone());
            std::thread::spawn(move || {
                while let Some(head) = read_head(&mut client) {
                    let method = head.split(' ').next().unwrap_or("").to_string();
                    let path = head.split(' ').nth(1).unwrap_or("").to_string();
                    let auth = header(&head, "authorization").unwrap_or("").to_string();
                    let reply = |c: &mut TcpStream, status: &str, extra: &str, body: &str| {
                        let _ = write!(
                            c,
                            "HTTP/1.1 {status}\r\n{extra}Content-Type: application/json\r\n\
                             Content-Length: {}\r\n\r\n{body}",
                            body.len()
                        );
                    };
                    if path.starts_with("/token") {
                        let len: usize = header(&head, "content-length")
                            .and_then(|l| l.parse().ok())
                            .unwrap_or(0);
                        let mut body = vec![0u8; len];
                        if client.read_exact(&mut body).is_err() {
                            return;
                        }
                        let form = if method == "POST" {
                            form_decode(&String::from_utf8_lossy(&body))
                        } else {
                            Vec::new()
                        };
                        let request = TokenRequest {
                            method: method.clone(),
                            authorization: auth.clone(),
                            form,
                        };
                        let granted = match (method.as_str(), &want_get, &want_refresh) {
                            ("GET", Some(want), _) => want.as_ref().is_none_or(|w| *w == auth),
                            ("POST", _, Some(refresh)) => {
                                request.field("grant_type") == Some("refresh_token")
                                    && request.field("refresh_token") == Some(refresh.as_str())
                            }
                            _ => false,
                        };
                        log.lock().unwrap().push(request);
                        let token = if granted {
                            format!("{TOKEN}-{}", issued.fetch_add(1, Ordering::SeqCst))
                        } else {
                            String::new()
                        };
                        if granted && method == "POST" {
                            let body = format!(
                                r#"{{"access_token":"{token}","token_type":"Bearer","expires_in":300}}"#
                            );
                            reply(&mut client, "200 OK", "", &body);
                        } else if granted {
                            let body = format!(r#"{{"token":"{token}","expires_in":300}}"#);
                            reply(&mut client, "200 OK", "", &body);
                        } else if method == "POST" {
                            let body = r#"{"error":"invalid_grant","error_description":"unknown refresh token"}"#;
                            reply(&mut client, "400 Bad Request", "", body);
                        } else {
                            reply(&mut client, "401 Unauthorized", "", "{}");
                        }
                        continue;
                    }
                    let number = auth
                        .strip_prefix(&format!("Bearer {TOKEN}-"))
                        .and_then(|n| n.parse::<u64>().ok())
                        .filter(|n| *n < issued.load(Ordering::SeqCst));
                    let lapsed = match lapse {
                        Lapse::Never => false,
                        Lapse::First => number == Some(0),
                        Lapse::All => true,
                    } && path.contains("/blobs/")
                        && first_blobs.fetch_add(1, Ordering::SeqCst) >= 1;
                    if number.is_none() || lapsed {
                        let error = if lapsed {
                            ",error=\"invalid_token\""
                        } else {
                            ""
                        };
                        let challenge = format!(
                            "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:{port}/token\",\
                             service=\"test\"{error}\r\n"
                        );
                        let body = r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#;
                        reply(&mut client, "401 Unauthorized", &challenge, body);
                        continue;
                    }
                    // Forward this one request, asking the registry to close afterwards.
                    let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                        return;
                    };
                    let head = head.replacen("\r\n", "\r\nConnection: close\r\n", 1);
                    let _ = server.write_all(head.as_bytes());
                    let _ = std::io::copy(&mut server, &mut client);
                    let _ = client.shutdown(Shutdown::Both);
                    return;
                }
            });
        }
    });
    (port, seen)
}
