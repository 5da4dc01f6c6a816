//! Analysis: the model every output reads. Joins the decoded layers, their merge and the
//! image config into one [`Analysis`]: image facts, per-layer sizes and build steps, and the
//! byte accounting (visible, overwritten, removed), each byte counted once.

pub(crate) mod avoidable;
pub(crate) mod duplicates;
pub(crate) mod findings;
pub(crate) mod hardlink;
pub(crate) mod hidden;
pub(crate) mod package_findings;
pub(crate) mod packages;
mod practice_add;
pub(crate) mod practices;
pub(crate) mod rules;
pub(crate) mod runtime;
pub(crate) mod secrets;
pub(crate) mod suggest;

use oci_spec::image::ImageConfiguration;

use crate::decode::{Compression, DecodedLayer};
use crate::index::LayerIndex;
use crate::merge::{byte_splits, merge, ByteSplit, Merged};
use crate::source::{Image, Platform, Transport};

pub(crate) use crate::history::one_line;
pub use crate::history::Step;
pub use findings::{Category, Finding, Severity, Suggestion};

/// Facts about the analysed image.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ImageInfo {
    pub reference: String,
    pub transport: Transport,
    pub manifest_digest: Option<String>,
    pub config_digest: Option<String>,
    pub platform: Platform,
    /// The base image the manifest's `org.opencontainers.image.base.name` annotation names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_name: Option<String>,
    /// The base's manifest digest (`org.opencontainers.image.base.digest`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_digest: Option<String>,
    /// Docker's `Healthcheck` from the config, when it declares one (the practice rules
    /// read it; the report carries its one-line form in `runtime`).
    #[serde(skip)]
    pub healthcheck: Option<crate::source::Healthcheck>,
    /// How the image runs (Entrypoint, Cmd, User, Env…), secrets redacted. Absent in
    /// reports saved before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<runtime::RuntimeConfig>,
}

/// One layer: where it came from, its sizes, its build step and its byte accounting.
#[derive(Debug, Clone)]
pub struct LayerInfo {
    pub digest: String,
    pub diff_id: String,
    pub media_type: Option<String>,
    pub compression: Compression,
    pub compressed_size: u64,
    pub uncompressed_size: u64,
    pub entries: usize,
    pub step: Step,
    /// This layer's content bytes by fate (visible, overwritten, removed).
    pub bytes: ByteSplit,
    /// Visible bytes of this layer that findings call avoidable (caches, temp, duplicates).
    pub avoidable: u64,
    /// Findings attributed to this layer.
    pub finding_count: usize,
    /// For a layer stored uncompressed: gzip's output / input size on a sample of its
    /// blob (what a registry would store), when the blob could be sampled.
    pub gzip_sample_ratio: Option<f64>,
}

impl LayerInfo {
    /// A foreign (non-distributable) layer: its blob is not in the image, so it was skipped
    /// and its files are not counted.
    pub fn is_foreign(&self) -> bool {
        self.media_type
            .as_deref()
            .is_some_and(crate::source::is_foreign_layer_media_type)
    }

    /// Compressed bytes per content byte, for estimating compressed savings. A layer stored
    /// uncompressed uses its gzip sample's ratio; `None` when it has none (its blob size
    /// would only repeat its content size).
    pub fn compression_ratio(&self) -> Option<f64> {
        if self.bytes.content == 0 {
            Some(1.0)
        } else if self.compression == Compression::None {
            self.gzip_sample_ratio
        } else {
            Some(self.compressed_size as f64 / self.uncompressed_size.max(1) as f64)
        }
    }

    /// Estimated compressed size of `bytes` content bytes of this layer; `None` when no
    /// estimate can be made (see [`LayerInfo::compression_ratio`]).
    pub fn compressed_estimate(&self, bytes: u64) -> Option<u64> {
        if bytes == 0 {
            return Some(0);
        }
        self.compression_ratio()
            .map(|r| (bytes as f64 * r).round() as u64)
    }

    /// This layer's waste: its hidden bytes plus its avoidable ones.
    pub fn waste(&self) -> u64 {
        self.bytes.hidden() + self.avoidable
    }
}

/// The findings of one category added up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CategoryTotal {
    pub category: Category,
    pub finding_count: usize,
    pub bytes: u64,
    /// `None` when a finding's layer has no compressed estimate.
    pub compressed_bytes: Option<u64>,
}

/// The sum of two compressed estimates; unknown when either is.
pub(crate) fn add_estimates(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    Some(a? + b?)
}

/// One total per category that has findings, in category order.
fn category_totals(findings: &[Finding]) -> Vec<CategoryTotal> {
    let mut by: std::collections::BTreeMap<Category, CategoryTotal> = Default::default();
    for f in findings {
        let t = by.entry(f.category).or_insert(CategoryTotal {
            category: f.category,
            finding_count: 0,
            bytes: 0,
            compressed_bytes: Some(0),
        });
        t.finding_count += 1;
        t.bytes += f.bytes;
        t.compressed_bytes = add_estimates(t.compressed_bytes, f.compressed_bytes);
    }
    by.into_values().collect()
}

/// Everything known about an image after decoding and merging its layers.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub image: ImageInfo,
    pub config: ImageConfiguration,
    pub layers: Vec<LayerInfo>,
    pub indexes: Vec<LayerIndex>,
    pub merged: Merged,
    pub totals: ByteSplit,
    /// The findings added up per category (only categories that have findings, in order).
    pub categories: Vec<CategoryTotal>,
    /// Every problem found: severity, then bytes, descending.
    pub findings: Vec<Finding>,
    /// Dockerfile rewrites, each resolving some findings.
    pub suggestions: Vec<Suggestion>,
    /// Best-practice findings (category `practice`): apart from `findings`, so waste
    /// totals and finding lists stay about bytes.
    pub practices: Vec<Finding>,
    /// With `--dockerfile`: the file, the built stage and which line made each layer.
    pub dockerfile: Option<crate::dockerfile::Context>,
    /// The base image's layers, when known (`--base`): a prefix of `layers`.
    pub base: Option<crate::base::Base>,
    /// Installed packages and which visible file each owns.
    pub packages: packages::Packages,
}

impl Analysis {
    /// Builds the analysis of an image from its decoded layers (in manifest order).
    pub fn new(image: &Image, decoded: Vec<DecodedLayer>) -> Analysis {
        Analysis::with_dockerfile(image, decoded, None)
    }

    /// Builds the analysis with the Dockerfile the image was built from (and the stage that
    /// was built): layers are tied to its lines, findings and suggestions cite them, and
    /// snippets start from the real instructions.
    pub fn with_dockerfile(
        image: &Image,
        decoded: Vec<DecodedLayer>,
        dockerfile: Option<(&crate::dockerfile::Dockerfile, usize)>,
    ) -> Analysis {
        // Secrets never leave the model: redact the config (ENV, history) before use.
        let config = secrets::redact_config(&image.config);
        let mut steps = crate::history::steps_for_layers(&config, decoded.len());
        let context =
            dockerfile.map(|(df, stage)| crate::dockerfile::Context::new(df, stage, &mut steps));
        let mut indexes = Vec::with_capacity(decoded.len());
        let mut secret_hits: Vec<Vec<secrets::SecretHit>> = Vec::with_capacity(decoded.len());
        let mut package_dbs = Vec::with_capacity(decoded.len());
        let mut layers: Vec<LayerInfo> = Vec::with_capacity(decoded.len());
        for ((d, blob), step) in decoded.into_iter().zip(&image.layers).zip(steps) {
            // Taken by the layer stage (or kept by the cache); a streamed image's layers
            // come with theirs from the stream.
            let gzip_sample_ratio = d
                .gzip_sample_ratio
                .or_else(|| crate::sample::of_layer(image, blob, &d));
            layers.push(LayerInfo {
                digest: d.digest,
                diff_id: d.diff_id,
                media_type: blob.media_type.clone(),
                compression: d.compression,
                compressed_size: d.compressed_size,
                uncompressed_size: d.uncompressed_size,
                entries: d.index.len(),
                step,
                bytes: ByteSplit::default(),
                avoidable: 0,
                finding_count: 0,
                gzip_sample_ratio,
            });
            indexes.push(d.index);
            secret_hits.push(d.secrets);
            package_dbs.push(d.packages);
        }
        let refs: Vec<&LayerIndex> = indexes.iter().collect();
        let merged = merge(&refs);
        let mut totals = ByteSplit::default();
        for (layer, split) in layers.iter_mut().zip(byte_splits(&refs, &merged)) {
            totals.add(&split);
            layer.bytes = split;
        }
        let mut findings = hidden::findings(&indexes, &merged, &layers);
        let (avoidable, claimed) = avoidable::findings(&indexes, &merged, &layers);
        findings.extend(avoidable);
        findings.extend(duplicates::findings(&indexes, &merged, &layers, &claimed));
        let packages = packages::analyze(&indexes, &merged, &package_dbs);
        findings.extend(package_findings::findings(
            &packages, &indexes, &layers, &claimed,
        ));
        findings.extend(secrets::findings(
            &secret_hits,
            &indexes,
            &merged,
            &layers,
            &image.config,
        ));
        findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(b.bytes.cmp(&a.bytes))
                .then(a.layer.cmp(&b.layer))
                .then(a.rule.cmp(&b.rule))
        });
        // A finding in the config (an ENV secret) belongs to no layer: ENV makes none.
        for f in findings.iter().filter(|f| !f.in_config) {
            if let Some(l) = layers.get_mut(f.layer) {
                l.finding_count += 1;
                if f.category.is_avoidable() {
                    l.avoidable += f.bytes;
                }
            }
        }
        let categories = category_totals(&findings);
        let mut suggestions = suggest::suggestions(&findings, &layers, &packages);
        if context.is_some() {
            let cite = |l: usize| layers.get(l).and_then(|l| l.step.source.clone());
            // A secret in `ENV` cites the ENV line that set it, not the layer before it.
            let env_cite = |instruction: &str| {
                let kv = instruction.strip_prefix("ENV ")?;
                let name = kv.split(['=', ' ']).next().unwrap_or_default();
                let c = context.as_ref()?;
                c.env_line(name).map(|l| c.dockerfile.cite(l))
            };
            for f in &mut findings {
                f.source = f
                    .in_config
                    .then(|| env_cite(&f.instruction))
                    .flatten()
                    .or_else(|| cite(f.layer));
            }
            for s in &mut suggestions {
                s.source = env_cite(&s.instruction).or_else(|| cite(s.layer));
            }
        }
        let practices = practices::findings(
            &practices::Inputs {
                config: &config,
                healthcheck: image.healthcheck.as_ref(),
                dockerfile: context.as_ref(),
            },
            &indexes,
            &merged,
            &layers,
        );
        Analysis {
            categories,
            findings,
            suggestions,
            practices,
            dockerfile: context,
            base: None,
            packages,
            image: ImageInfo {
                reference: image.reference.clone(),
                transport: image.transport,
                manifest_digest: image.manifest_digest.clone(),
                config_digest: image.config_digest.clone(),
                platform: image.platform.clone(),
                // buildah writes both annotations empty for an image from scratch.
                base_name: image
                    .annotations
                    .get(crate::source::BASE_NAME_ANNOTATION)
                    .filter(|v| !v.is_empty())
                    .cloned(),
                base_digest: image
                    .annotations
                    .get(crate::source::BASE_DIGEST_ANNOTATION)
                    .filter(|v| !v.is_empty())
                    .cloned(),
                healthcheck: image.healthcheck.clone(),
                runtime: Some(runtime::RuntimeConfig::of(
                    &config,
                    image.healthcheck.as_ref(),
                )),
            },
            config,
            layers,
            indexes,
            merged,
            totals,
        }
    }

    /// Final visible bytes / total content bytes (1.0 when nothing is hidden).
    pub fn efficiency(&self) -> f64 {
        if self.totals.content == 0 {
            1.0
        } else {
            self.totals.visible as f64 / self.totals.content as f64
        }
    }

    pub fn compressed_size(&self) -> u64 {
        self.layers.iter().map(|l| l.compressed_size).sum()
    }

    /// Hidden bytes, estimated in compressed bytes from each layer's own ratio (`None` when
    /// a layer that hides bytes has no estimate).
    pub fn hidden_compressed(&self) -> Option<u64> {
        self.layers
            .iter()
            .map(|l| l.compressed_estimate(l.bytes.hidden()))
            .sum()
    }

    /// Visible bytes the image does not need (caches, temp/log files, duplicate copies).
    pub fn avoidable_bytes(&self) -> u64 {
        self.findings
            .iter()
            .filter(|f| f.category.is_avoidable())
            .map(|f| f.bytes)
            .sum()
    }

    /// Avoidable bytes, estimated in compressed bytes from each layer's own ratio.
    pub fn avoidable_compressed(&self) -> Option<u64> {
        self.findings
            .iter()
            .filter(|f| f.category.is_avoidable())
            .map(|f| f.compressed_bytes)
            .sum()
    }

    /// Visible bytes that are optional (docs, toolchains): lower severity, not in savings.
    pub fn optional_bytes(&self) -> u64 {
        self.findings
            .iter()
            .filter(|f| f.category.is_optional())
            .map(|f| f.bytes)
            .sum()
    }

    /// Hidden + avoidable bytes.
    pub fn potential_savings(&self) -> u64 {
        self.totals.hidden() + self.avoidable_bytes()
    }

    /// Hidden + avoidable bytes, estimated in compressed bytes.
    pub fn potential_savings_compressed(&self) -> Option<u64> {
        add_estimates(self.hidden_compressed(), self.avoidable_compressed())
    }

    /// Efficiency in compressed bytes: 1 − hidden compressed estimate / total blob bytes.
    pub fn compressed_efficiency(&self) -> Option<f64> {
        let total = self.compressed_size();
        let hidden = self.hidden_compressed()?;
        Some(if total == 0 {
            1.0
        } else {
            1.0 - (hidden.min(total) as f64 / total as f64)
        })
    }

    /// Findings that are secrets.
    pub fn secrets(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.category == Category::Secret)
    }
}
