//! Platforms (`os/arch[/variant]`): parsing `--platform`, the host default, and matching
//! the entries of a multi-arch image index.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    pub fn parse(s: &str) -> Option<Platform> {
        let mut parts = s.split('/');
        let os = parts.next().filter(|p| !p.is_empty())?;
        let architecture = parts.next().filter(|p| !p.is_empty())?;
        let variant = parts.next().map(str::to_string);
        if parts.next().is_some() || variant.as_deref() == Some("") {
            return None;
        }
        Some(Platform {
            os: os.to_string(),
            architecture: normalize_arch(architecture).to_string(),
            variant,
        })
    }

    /// The platform this program runs on, in OCI names.
    pub fn host() -> Platform {
        Platform {
            os: "linux".to_string(),
            architecture: normalize_arch(std::env::consts::ARCH).to_string(),
            variant: None,
        }
    }

    /// True when `self` (what the user asked for) accepts `candidate`. A request without a
    /// variant accepts any variant; `arm64` and `arm64/v8` are the same thing.
    pub fn accepts(&self, candidate: &Platform) -> bool {
        if self.os != candidate.os || self.architecture != normalize_arch(&candidate.architecture) {
            return false;
        }
        match (&self.variant, &candidate.variant) {
            (None, _) => true,
            (Some(a), Some(b)) => a == b,
            (Some(a), None) => self.architecture == "arm64" && a == "v8",
        }
    }
}

fn normalize_arch(a: &str) -> &str {
    match a {
        "x86_64" | "x86-64" => "amd64",
        "aarch64" => "arm64",
        "i386" | "i686" => "386",
        other => other,
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_matches() {
        let p = Platform::parse("linux/arm64/v8").unwrap();
        assert_eq!(p.to_string(), "linux/arm64/v8");
        assert!(Platform::parse("linux").is_none());
        assert!(Platform::parse("linux/amd64/v1/x").is_none());
        let any_arm = Platform::parse("linux/aarch64").unwrap();
        assert!(any_arm.accepts(&p));
        assert!(p.accepts(&Platform::parse("linux/arm64").unwrap()));
        assert!(!p.accepts(&Platform::parse("linux/amd64").unwrap()));
    }
}
