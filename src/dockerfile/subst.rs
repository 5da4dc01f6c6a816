//! Variable substitution in the form BuildKit applies it to Dockerfile words (`COPY`, `ADD`,
//! `ENV`, `ARG`, `WORKDIR`, `USER`, `FROM`, …): `$NAME`, `${NAME}`, `${NAME:-word}`,
//! `${NAME-word}`, `${NAME:+word}`, `${NAME+word}`, `${NAME:?msg}`; single quotes keep their
//! content literal, double quotes group and expand, the escape character escapes the next
//! character, and quotes are removed. `RUN` is not expanded here: its shell does that at
//! build time.

use std::collections::BTreeMap;

/// Variables in scope: ARGs declared in the stage (with a value) and ENVs set so far.
pub(crate) type Vars = BTreeMap<String, String>;

/// Expands one Dockerfile word (quotes removed).
pub(crate) fn expand(word: &str, vars: &Vars, escape: char) -> String {
    let mut out = String::with_capacity(word.len());
    let chars: Vec<char> = word.chars().collect();
    let mut i = 0;
    let mut in_double = false;
    while i < chars.len() {
        let c = chars[i];
        if c == escape && i + 1 < chars.len() {
            out.push(chars[i + 1]);
            i += 2;
            continue;
        }
        if c == '\'' && !in_double {
            // Literal up to the closing quote.
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                out.push(chars[i]);
                i += 1;
            }
            i += 1;
            continue;
        }
        if c == '"' {
            in_double = !in_double;
            i += 1;
            continue;
        }
        if c == '$' {
            let (value, used) = variable(&chars[i + 1..], vars, escape);
            match value {
                Some(v) => {
                    out.push_str(&v);
                    i += 1 + used;
                }
                None => {
                    out.push('$');
                    i += 1;
                }
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Reads a variable reference after `$`: returns its expansion (`None` when `$` is not
/// followed by a name) and how many characters it used.
fn variable(s: &[char], vars: &Vars, escape: char) -> (Option<String>, usize) {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    match s.first() {
        Some('{') => {
            let Some(close) = matching_brace(s) else {
                return (None, 0);
            };
            let inner: String = s[1..close].iter().collect();
            let name_len = inner.chars().take_while(|&c| is_name(c)).count();
            let name = &inner[..name_len];
            let rest = &inner[name_len..];
            let value = vars.get(name);
            let word = |w: &str| expand(w, vars, escape);
            let v = if rest.is_empty() {
                value.cloned().unwrap_or_default()
            } else if let Some(w) = rest.strip_prefix(":-") {
                match value {
                    Some(v) if !v.is_empty() => v.clone(),
                    _ => word(w),
                }
            } else if let Some(w) = rest.strip_prefix(":+") {
                match value {
                    Some(v) if !v.is_empty() => word(w),
                    _ => String::new(),
                }
            } else if let Some(w) = rest.strip_prefix('-') {
                value.cloned().unwrap_or_else(|| word(w))
            } else if let Some(w) = rest.strip_prefix('+') {
                value.map(|_| word(w)).unwrap_or_default()
            } else {
                // `:?`, `?` and pattern forms: the value when set, else empty.
                value.cloned().unwrap_or_default()
            };
            (Some(v), close + 1)
        }
        Some(&c) if is_name(c) && !c.is_ascii_digit() => {
            let n = s.iter().take_while(|&&c| is_name(c)).count();
            let name: String = s[..n].iter().collect();
            (Some(vars.get(&name).cloned().unwrap_or_default()), n)
        }
        _ => (None, 0),
    }
}

fn matching_brace(s: &[char]) -> Option<usize> {
    let mut depth = 0;
    for (i, &c) in s.iter().enumerate() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits `K=V K2="v 2"` (or the legacy `K V`) into pairs, values expanded.
pub(crate) fn key_values(args: &str, vars: &Vars, escape: char) -> Vec<(String, String)> {
    let words = split_words(args, escape);
    if words.first().is_some_and(|w| !w.contains('=')) {
        // Legacy `ENV KEY value with spaces`.
        let key = words[0].clone();
        let value = args.trim_start()[key.len()..].trim();
        return vec![(key, expand(value, vars, escape))];
    }
    words
        .iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_string(), expand(v, vars, escape)),
            None => (w.clone(), String::new()),
        })
        .collect()
}

/// Splits on unquoted, unescaped whitespace (quotes kept for [`expand`]).
pub(crate) fn split_words(s: &str, escape: char) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => {
                quote = None;
                cur.push(c);
            }
            Some(_) => cur.push(c),
            None if c == escape => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                cur.push(c);
            }
            None if c.is_whitespace() => {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            }
            None => cur.push(c),
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        Vars::from([
            ("APP".to_string(), "/srv/app".to_string()),
            ("EMPTY".to_string(), String::new()),
        ])
    }

    #[test]
    fn buildkit_forms() {
        let v = vars();
        assert_eq!(expand("$APP/bin", &v, '\\'), "/srv/app/bin");
        assert_eq!(expand("${APP}/bin", &v, '\\'), "/srv/app/bin");
        assert_eq!(expand("${NOPE:-/opt}", &v, '\\'), "/opt");
        assert_eq!(expand("${EMPTY:-/opt}", &v, '\\'), "/opt");
        assert_eq!(expand("${EMPTY-/opt}", &v, '\\'), "");
        assert_eq!(expand("${APP:+set}", &v, '\\'), "set");
        assert_eq!(expand("${NOPE:+set}", &v, '\\'), "");
        assert_eq!(expand("${NOPE:-$APP}", &v, '\\'), "/srv/app");
        assert_eq!(expand("'$APP'", &v, '\\'), "$APP");
        assert_eq!(expand("\"$APP x\"", &v, '\\'), "/srv/app x");
        assert_eq!(expand("\\$APP", &v, '\\'), "$APP");
        assert_eq!(expand("`$APP", &v, '`'), "$APP");
        assert_eq!(expand("$NOPE", &v, '\\'), "");
        assert_eq!(expand("cost $5", &v, '\\'), "cost $5");
    }

    #[test]
    fn env_pairs() {
        let v = vars();
        assert_eq!(
            key_values("A=1 B=\"two words\" C=$APP", &v, '\\'),
            [
                ("A".to_string(), "1".to_string()),
                ("B".to_string(), "two words".to_string()),
                ("C".to_string(), "/srv/app".to_string())
            ]
        );
        assert_eq!(
            key_values("PATH_X some value", &v, '\\'),
            [("PATH_X".to_string(), "some value".to_string())]
        );
    }
}
