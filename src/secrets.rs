//! Secret detection: the rule table of secrets (private keys, cloud, VCS, chat and payment
//! tokens, credential files), the scanner that decode runs over small text files, and the
//! redaction that keeps every secret out of every output. A leaf of the pipeline: decode
//! runs it over file contents, analysis over `ENV` and history, and turns hits into findings
//! (`analysis::secrets`).
//!
//! Rules are regular expressions whose group 1 (if any) is a harmless prefix that reports may
//! show (`ghp_`, `-----BEGIN OPENSSH PRIVATE KEY-----`) and whose group 2 (if any) is the
//! secret itself; a report shows the prefix and `[REDACTED]`, never group 2. Rules with a
//! `files` list only apply to files with one of those names (`.npmrc`, `.pypirc`, …) and to
//! no other text; rules marked `text_only` apply to `ENV` and history commands and to `.env`
//! files, where `NAME=value` assignments are the norm.

use std::sync::OnceLock;

use regex::bytes::{Regex, RegexSet};

/// Files up to this size are scanned for secrets (larger files are rarely hand-written
/// credentials, and scanning them would slow decoding).
pub(crate) const MAX_SCAN_BYTES: u64 = 256 * 1024;

/// Matches kept per file: enough evidence, bounded output.
const MAX_HITS_PER_FILE: usize = 4;

/// One rule of the table.
pub(crate) struct SecretRule {
    /// Stable id, used as `secret.<id>` in findings.
    pub id: &'static str,
    /// What the match is, for people.
    pub what: &'static str,
    pattern: &'static str,
    /// Only files with one of these names (last path component; `*` suffix allowed).
    files: &'static [&'static str],
    /// Only in ENV values, history commands and `.env` files.
    text_only: bool,
}

const fn rule(id: &'static str, what: &'static str, pattern: &'static str) -> SecretRule {
    SecretRule {
        id,
        what,
        pattern,
        files: &[],
        text_only: false,
    }
}

/// The rule table. Extend it here; unit tests below check every rule compiles and matches
/// its example.
pub(crate) const RULES: &[SecretRule] = &[
    rule(
        "private-key",
        "private key",
        r"(-----BEGIN (?:RSA |DSA |EC |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----)[\r\n]+[A-Za-z0-9+/=\r\n:,-]{16}",
    ),
    rule(
        "aws-access-key-id",
        "AWS access key id",
        r"\b((?:AKIA|ASIA))([0-9A-Z]{16})\b",
    ),
    rule(
        "aws-secret-access-key",
        "AWS secret access key",
        r#"(?i)(aws_?secret_?access_?key["']?\s*[=:]\s*["']?)([A-Za-z0-9/+=]{40})"#,
    ),
    rule(
        "github-token",
        "GitHub token",
        r"\b(gh[pousr]_)([A-Za-z0-9]{36,255})\b",
    ),
    rule(
        "github-token",
        "GitHub fine-grained token",
        r"\b(github_pat_)([A-Za-z0-9_]{22,255})\b",
    ),
    rule(
        "gitlab-token",
        "GitLab token",
        r"\b(glpat-)([A-Za-z0-9_-]{20,})\b",
    ),
    rule(
        "slack-token",
        "Slack token",
        r"\b(xox[abposr]-)([A-Za-z0-9-]{10,})\b",
    ),
    rule(
        "slack-webhook",
        "Slack webhook",
        r"(https://hooks\.slack\.com/services/)([A-Za-z0-9/]{20,})",
    ),
    rule(
        "discord-webhook",
        "Discord webhook",
        r"(https://discord(?:app)?\.com/api/webhooks/)([0-9]+/[A-Za-z0-9_-]{20,})",
    ),
    rule(
        "stripe-key",
        "Stripe secret key",
        r"\b((?:sk|rk)_live_)([A-Za-z0-9]{16,})\b",
    ),
    rule(
        "google-api-key",
        "Google API key",
        r"\b(AIza)([0-9A-Za-z_-]{35})\b",
    ),
    rule("npm-token", "npm token", r"\b(npm_)([A-Za-z0-9]{36})\b"),
    rule(
        "pypi-token",
        "PyPI token",
        r"\b(pypi-)(AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})",
    ),
    SecretRule {
        id: "npmrc-auth",
        what: "npm registry credentials",
        pattern: r"((?:_authToken|_auth|_password)\s*=\s*)([^\s$][^\s]*)",
        files: &[".npmrc"],
        text_only: false,
    },
    SecretRule {
        id: "pypirc-password",
        what: "PyPI upload password",
        pattern: r"(?m)(^\s*password\s*[=:]\s*)(\S+)",
        files: &[".pypirc"],
        text_only: false,
    },
    SecretRule {
        id: "git-credentials",
        what: "git credentials",
        pattern: r"(https?://[^\s:/@]+:)([^\s@/]+)@",
        files: &[".git-credentials"],
        text_only: false,
    },
    SecretRule {
        id: "docker-auth",
        what: "registry credentials in docker config.json",
        pattern: r#"("(?:auth|identitytoken)"\s*:\s*")([A-Za-z0-9+/=_.-]{8,})""#,
        files: &["config.json"],
        text_only: false,
    },
    SecretRule {
        id: "password-assignment",
        what: "credential in a variable",
        pattern: r#"(?i)(\b[A-Z0-9_]*(?:SECRET|TOKEN|PASSWORD|PASSWD|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?)[A-Z0-9_]*\s*=\s*["']?)([^\s"'$][^\s"']{3,})"#,
        files: &[],
        text_only: true,
    },
];

/// A fingerprint of the rule table and scan limits: [`SecretHit`]s stored (in the layer
/// cache) under another fingerprint were found by other rules and must be found again.
pub(crate) fn rules_fingerprint() -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for r in RULES {
        for part in [r.id, r.what, r.pattern] {
            h.update(part.as_bytes());
            h.update(&[0]);
        }
        for f in r.files {
            h.update(f.as_bytes());
            h.update(&[1]);
        }
        h.update(&[u8::from(r.text_only), 2]);
    }
    h.update(&MAX_SCAN_BYTES.to_le_bytes());
    h.update(&(MAX_HITS_PER_FILE as u64).to_le_bytes());
    h.digest()
}

/// A secret found in a file of a layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretHit {
    /// Index of the file in its layer's [`LayerIndex`](crate::index::LayerIndex).
    pub entry: usize,
    /// Position in [`RULES`].
    pub rule: usize,
    /// 1-based line of the match.
    pub line: usize,
    /// The match with its secret part replaced by `[REDACTED]`.
    pub redacted: String,
}

/// A secret found in a piece of text (an ENV value, a history command).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TextHit {
    pub rule: usize,
    pub redacted: String,
    /// The secret's fingerprint (xxh3), to tell repeated sightings of one secret apart from
    /// different secrets without keeping it.
    pub fingerprint: u64,
}

/// Compiled rules.
pub(crate) struct Scanner {
    /// Rules that apply to any file, as one alternation: every alternative starts with a
    /// literal, so the regex engine skips most text with a SIMD prefilter. Almost all files
    /// stop here.
    gate: Regex,
    /// The same rules as a set, to learn which matched.
    anywhere: RegexSet,
    anywhere_ids: Vec<usize>,
    /// Every rule that applies to text (not bound to a file name), as one set: the quick
    /// "nothing to redact" answer for the many short strings outputs pass through.
    text: RegexSet,
    compiled: Vec<Regex>,
}

/// The shared scanner, compiled once. `None` only if a rule fails to compile, which the
/// unit tests rule out.
pub(crate) fn scanner() -> Option<&'static Scanner> {
    static SCANNER: OnceLock<Option<Scanner>> = OnceLock::new();
    SCANNER.get_or_init(|| Scanner::new().ok()).as_ref()
}

pub(crate) fn is_env_file(name: &[u8]) -> bool {
    name == b".env" || name.starts_with(b".env.")
}

fn name_matches(name: &[u8], pattern: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix.as_bytes()),
        None => name == pattern.as_bytes(),
    }
}

/// Does the content look like text (no NUL in its first KiB)?
pub(crate) fn looks_like_text(data: &[u8]) -> bool {
    !data[..data.len().min(1024)].contains(&0)
}

impl Scanner {
    fn new() -> Result<Scanner, regex::Error> {
        // ASCII semantics (`(?-u)`): ASCII `\b` and classes keep every rule on the fast
        // DFA engines; secrets are ASCII anyway.
        let ascii = |p: &str| format!("(?-u){p}");
        let compiled = RULES
            .iter()
            .map(|r| Regex::new(&ascii(r.pattern)))
            .collect::<Result<Vec<_>, _>>()?;
        let anywhere_ids: Vec<usize> = RULES
            .iter()
            .enumerate()
            .filter(|(_, r)| r.files.is_empty() && !r.text_only)
            .map(|(i, _)| i)
            .collect();
        let anywhere = RegexSet::new(anywhere_ids.iter().map(|&i| ascii(RULES[i].pattern)))?;
        let gate = Regex::new(&ascii(
            &anywhere_ids
                .iter()
                .map(|&i| format!("(?:{})", RULES[i].pattern))
                .collect::<Vec<_>>()
                .join("|"),
        ))?;
        let text = RegexSet::new(
            RULES
                .iter()
                .filter(|r| r.files.is_empty())
                .map(|r| ascii(r.pattern)),
        )?;
        Ok(Scanner {
            gate,
            anywhere,
            anywhere_ids,
            text,
            compiled,
        })
    }

    /// Scans one file's content; `entry` is its index in the layer.
    pub(crate) fn scan_file(
        &self,
        entry: usize,
        path: &[u8],
        data: &[u8],
        out: &mut Vec<SecretHit>,
    ) {
        if !looks_like_text(data) {
            return;
        }
        let name = crate::index::file_name(path);
        let env_file = is_env_file(name);
        let mut rules: Vec<usize> = Vec::new();
        if self.gate.is_match(data) {
            rules.extend(
                self.anywhere
                    .matches(data)
                    .into_iter()
                    .map(|k| self.anywhere_ids[k]),
            );
        }
        for (i, r) in RULES.iter().enumerate() {
            let applies = (!r.files.is_empty() && r.files.iter().any(|f| name_matches(name, f)))
                || (r.text_only && env_file);
            if applies {
                rules.push(i);
            }
        }
        let before = out.len();
        let mut seen: Vec<(usize, usize)> = Vec::new();
        for i in rules {
            for caps in self.compiled[i].captures_iter(data) {
                let Some(m) = caps.get(0) else { continue };
                if seen.iter().any(|&(s, e)| m.start() < e && s < m.end()) {
                    continue; // one secret, one finding, even if two rules see it
                }
                seen.push((m.start(), m.end()));
                out.push(SecretHit {
                    entry,
                    rule: i,
                    line: 1 + data[..m.start()].iter().filter(|&&b| b == b'\n').count(),
                    redacted: redact_caps(&caps),
                });
                if out.len() - before >= MAX_HITS_PER_FILE {
                    return;
                }
            }
        }
    }

    /// Scans a piece of text (ENV value, history command) with every rule that applies to
    /// text: the general ones and the `NAME=value` one.
    pub(crate) fn scan_text(&self, text: &str) -> Vec<TextHit> {
        let data = text.as_bytes();
        let mut hits = Vec::new();
        let mut seen: Vec<(usize, usize)> = Vec::new();
        for (i, r) in RULES.iter().enumerate() {
            if !r.files.is_empty() {
                continue;
            }
            for caps in self.compiled[i].captures_iter(data) {
                let Some(m) = caps.get(0) else { continue };
                if seen.iter().any(|&(s, e)| m.start() < e && s < m.end()) {
                    continue;
                }
                seen.push((m.start(), m.end()));
                let (s, e) = secret_span(&caps);
                let secret = &data[s..e];
                hits.push(TextHit {
                    rule: i,
                    redacted: redact_caps(&caps),
                    fingerprint: xxhash_rust::xxh3::xxh3_64(secret),
                });
            }
        }
        hits
    }

    /// Could [`Scanner::redact_text`] change `text`? False for almost every path and command.
    pub(crate) fn may_contain_secret(&self, text: &str) -> bool {
        self.text.is_match(text.as_bytes())
    }

    /// `text` with every secret part replaced by `[REDACTED]`. Where two rules overlap, the
    /// earlier (more specific) rule's span wins, as in [`Scanner::scan_text`].
    pub(crate) fn redact_text(&self, text: &str) -> String {
        let data = text.as_bytes();
        let mut spans: Vec<(usize, usize)> = Vec::new();
        let mut matched: Vec<(usize, usize)> = Vec::new();
        for (i, r) in RULES.iter().enumerate() {
            if !r.files.is_empty() {
                continue;
            }
            let mut found = Vec::new();
            for caps in self.compiled[i].captures_iter(data) {
                let Some(m) = caps.get(0) else { continue };
                found.push((m.start(), m.end()));
                // Where an earlier rule matched, its redaction stands; the rest of this
                // secret (say a token run on into another one) is redacted too.
                let (s, e) = secret_span(&caps);
                spans.extend(subtract((s, e), &matched));
            }
            matched.extend(found);
        }
        if spans.is_empty() {
            return text.to_string();
        }
        spans.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (s, e) in spans {
            if e <= at {
                continue;
            }
            let s = s.max(at);
            out.push_str(&String::from_utf8_lossy(&data[at..s]));
            out.push_str(REDACTED);
            at = e;
        }
        out.push_str(&String::from_utf8_lossy(&data[at..]));
        out
    }
}

/// The parts of `span` outside every range of `taken`.
fn subtract(span: (usize, usize), taken: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut parts = vec![span];
    for &(ts, te) in taken {
        parts = parts
            .into_iter()
            .flat_map(|(s, e)| {
                if te <= s || e <= ts {
                    vec![(s, e)]
                } else {
                    vec![(s, ts.max(s)), (te.min(e), e)]
                }
            })
            .filter(|(s, e)| s < e)
            .collect();
    }
    parts
}

/// Where the secret is in a match: group 2, else what follows group 1, else all of it.
fn secret_span(caps: &regex::bytes::Captures<'_>) -> (usize, usize) {
    let (start, end) = caps.get(0).map_or((0, 0), |m| (m.start(), m.end()));
    match (caps.get(1), caps.get(2)) {
        (_, Some(g)) => (g.start(), g.end()),
        (Some(p), None) => (p.end(), end),
        (None, None) => (start, end),
    }
}

/// What replaces a secret in every output.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// The match's harmless prefix (group 1) followed by `[REDACTED]`.
fn redact_caps(caps: &regex::bytes::Captures<'_>) -> String {
    let prefix = caps.get(1).map_or(&b""[..], |m| m.as_bytes());
    let prefix = String::from_utf8_lossy(prefix);
    let prefix: String = prefix.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("{prefix}{REDACTED}")
}

/// Redacts `text` with the shared scanner (unchanged if the scanner is unavailable).
pub(crate) fn redact(text: &str) -> String {
    match scanner() {
        Some(s) => s.redact_text(text),
        None => text.to_string(),
    }
}
