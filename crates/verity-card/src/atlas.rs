//! The atlas: published works on post-training reasoning data, shipped inside verity.
//!
//! What it does: decompresses the 280 entries compiled into the binary (`atlas/`, derived from the
//! MIT-licensed companion repository of the Primer; see [`SOURCE_NOTICE`]), searches them by text
//! and facets, shows one by id, and turns an entry into a [`Card`] (with the hard facts of
//! `release_facts.md` for the 15 major releases it covers) so `card diff` can compare a release
//! with a published one.
//!
//! Why: a release is easiest to judge next to the published works it resembles.
//!
//! Known failure modes: the atlas labels (`verification_contract`, `supervision_granularity`,
//! `training_use`) are `unknown` on most entries; release facts exist for 15 releases only, and
//! free-text facts (a teacher "GPT-4 family") are kept verbatim, so a diff against them compares
//! names, not identities.

use crate::model::*;
use crate::{Error, Result};
use serde_json::{Map, Value};
use std::io::Read;
use std::sync::OnceLock;

const ENTRIES_GZ: &[u8] = include_bytes!("../atlas/atlas_entries.jsonl.gz");
/// The release-facts document (Markdown), verbatim.
pub const RELEASE_FACTS: &str = include_str!("../atlas/release_facts.md");
/// The source and license notice of the atlas data, verbatim.
pub const SOURCE_NOTICE: &str = include_str!("../atlas/SOURCE.md");

/// One atlas entry (the JSON object of the source, verbatim).
#[derive(Debug, Clone, PartialEq)]
pub struct AtlasEntry(pub Map<String, Value>);

impl AtlasEntry {
    /// Field as a string.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Value::as_str)
    }

    /// Entry id.
    pub fn id(&self) -> &str {
        self.str("id").unwrap_or("")
    }

    /// Title.
    pub fn title(&self) -> &str {
        self.str("title").unwrap_or("")
    }

    /// Year.
    pub fn year(&self) -> Option<u64> {
        self.0.get("year").and_then(Value::as_u64)
    }

    /// A list field, without `unknown`.
    pub fn list(&self, key: &str) -> Vec<&str> {
        self.0
            .get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .filter(|s| *s != "unknown")
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Curation level number (0..5) from `L4_carded`.
    pub fn level(&self) -> Option<u8> {
        self.str("curation_level")
            .and_then(|l| l.strip_prefix('L'))
            .and_then(|l| l.chars().next())
            .and_then(|c| c.to_digit(10))
            .map(|d| d as u8)
    }

    /// The hard facts section of `release_facts.md` for this entry, if any.
    pub fn release_facts(&self) -> Option<&'static ReleaseFacts> {
        release_facts().iter().find(|f| f.atlas_id == self.id())
    }
}

/// Hard facts on one major release (a row of the summary table and its section).
#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseFacts {
    /// Release name.
    pub release: String,
    /// Atlas id the section names.
    pub atlas_id: String,
    /// Size as released (text).
    pub size: String,
    /// Teacher / generator (text).
    pub teacher: String,
    /// Model trained in the release (text).
    pub model_trained: String,
    /// Verifier / label source (text).
    pub verifier: String,
    /// License (text).
    pub license: String,
    /// The section, verbatim Markdown.
    pub section: String,
}

/// Every atlas entry.
pub fn entries() -> &'static [AtlasEntry] {
    static ENTRIES: OnceLock<Vec<AtlasEntry>> = OnceLock::new();
    ENTRIES.get_or_init(|| {
        let mut text = String::new();
        let decoded = flate2::read::GzDecoder::new(ENTRIES_GZ).read_to_string(&mut text);
        if decoded.is_err() {
            return Vec::new();
        }
        text.lines()
            .filter_map(|line| match serde_json::from_str::<Value>(line) {
                Ok(Value::Object(map)) => Some(AtlasEntry(map)),
                _ => None,
            })
            .collect()
    })
}

/// One entry by id.
pub fn get(id: &str) -> Result<&'static AtlasEntry> {
    let id = id.strip_prefix("atlas:").unwrap_or(id);
    entries()
        .iter()
        .find(|e| e.id() == id)
        .ok_or_else(|| Error::NoSuchAtlasEntry(id.to_string()))
}

/// The parsed release facts.
pub fn release_facts() -> &'static [ReleaseFacts] {
    static FACTS: OnceLock<Vec<ReleaseFacts>> = OnceLock::new();
    FACTS.get_or_init(|| parse_release_facts(RELEASE_FACTS))
}

fn parse_release_facts(text: &str) -> Vec<ReleaseFacts> {
    // Summary table rows, in order.
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut in_summary = false;
    for line in text.lines() {
        if line.starts_with("## ") {
            in_summary = line.trim() == "## Summary";
            continue;
        }
        if in_summary && line.starts_with('|') && !line.starts_with("|---") {
            let cells: Vec<String> = line
                .trim()
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect();
            if cells.len() == 6 && cells[0] != "release" {
                rows.push(cells);
            }
        }
    }
    // Numbered sections, in order.
    let mut sections: Vec<(String, String)> = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            if let Some(done) = current.take() {
                sections.push(done);
            }
            let numbered = heading
                .split_once(". ")
                .filter(|(n, _)| n.chars().all(|c| c.is_ascii_digit()));
            if let Some((_, rest)) = numbered {
                let id = rest
                    .split_once("atlas id")
                    .and_then(|(_, after)| after.split('`').nth(1))
                    .filter(|id| !id.contains('…'))
                    .unwrap_or("")
                    .to_string();
                current = Some((id, format!("{line}\n")));
            }
            continue;
        }
        if let Some((_, body)) = current.as_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    if let Some(done) = current.take() {
        sections.push(done);
    }
    rows.into_iter()
        .zip(sections)
        .map(|(row, (atlas_id, section))| ReleaseFacts {
            release: row[0].clone(),
            size: row[1].clone(),
            teacher: row[2].clone(),
            model_trained: row[3].clone(),
            verifier: row[4].clone(),
            license: row[5].clone(),
            atlas_id,
            section: section.trim_end().to_string(),
        })
        .collect()
}

/// Facet filters for [`search`]. Values use the atlas vocabulary; verity's granularity names
/// (`answer`, `step`, `pairwise`, ...) are accepted too.
#[derive(Debug, Clone, Default)]
pub struct Facets {
    /// Verification contract.
    pub contract: Option<String>,
    /// Supervision granularity.
    pub granularity: Option<String>,
    /// Training use.
    pub training_use: Option<String>,
    /// Source role (`data_release`, `benchmark`, ...).
    pub role: Option<String>,
    /// Domain (`math`, `code`, ...).
    pub domain: Option<String>,
    /// Minimum curation level (0..5).
    pub min_level: Option<u8>,
    /// Year.
    pub year: Option<u64>,
}

/// Verity's granularity name for an atlas one.
pub fn granularity_to_verity(atlas: &str) -> &str {
    match atlas {
        "answer_level" => "answer",
        "step_level" => "step",
        "state_action_level" => "state_action",
        "full_episode" => "episode",
        "pairwise_preference" => "pairwise",
        "scalar_reward" => "scalar",
        "process_reward" => "process",
        other => other,
    }
}

/// Entries matching every query word (in id, title, venue, arXiv id, domains, tracks) and every
/// facet, best curated first.
pub fn search(query: &str, facets: &Facets) -> Vec<&'static AtlasEntry> {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    let has = |entry: &AtlasEntry, key: &str, want: &Option<String>| match want {
        None => true,
        Some(want) => entry.list(key).iter().any(|v| {
            v.eq_ignore_ascii_case(want) || granularity_to_verity(v).eq_ignore_ascii_case(want)
        }),
    };
    let mut hits: Vec<&AtlasEntry> = entries()
        .iter()
        .filter(|e| {
            let haystack = format!(
                "{} {} {} {} {} {}",
                e.id(),
                e.title(),
                e.str("venue").unwrap_or(""),
                e.str("arxiv_id").unwrap_or(""),
                e.list("domains").join(" "),
                e.list("tracks").join(" ")
            )
            .to_lowercase();
            words.iter().all(|w| haystack.contains(w.as_str()))
        })
        .filter(|e| has(e, "verification_contract", &facets.contract))
        .filter(|e| has(e, "supervision_granularity", &facets.granularity))
        .filter(|e| has(e, "training_use", &facets.training_use))
        .filter(|e| has(e, "source_role", &facets.role))
        .filter(|e| has(e, "domains", &facets.domain))
        .filter(|e| {
            facets
                .min_level
                .is_none_or(|m| e.level().is_some_and(|l| l >= m))
        })
        .filter(|e| facets.year.is_none_or(|y| e.year() == Some(y)))
        .collect();
    hits.sort_by(|a, b| {
        b.level()
            .cmp(&a.level())
            .then(b.year().cmp(&a.year()))
            .then(a.id().cmp(b.id()))
    });
    hits
}

fn text_fact(text: &str, evidence: &str) -> Fact<String> {
    let t = text.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("unknown") || t.starts_with("not stated") || t == "—"
    {
        Fact::default()
    } else if t.to_lowercase().starts_with("none") {
        Fact::NotApplicable {
            provenance: Provenance::Declared,
            evidence: Some(format!("{evidence}: {t}")),
        }
    } else {
        Fact::declared(t.to_string(), evidence)
    }
}

fn leading_integer(text: &str) -> Option<u64> {
    let first = text.split_whitespace().next()?;
    if !first.chars().all(|c| c.is_ascii_digit() || c == ',') {
        return None;
    }
    first.replace(',', "").parse().ok()
}

/// The card of an atlas entry: what the atlas states, as `declared` facts; everything else
/// `unknown`.
pub fn entry_card(entry: &AtlasEntry) -> Card {
    let ev = format!("atlas:{}", entry.id());
    let mut card = Card::default();
    card.release.name = Fact::declared(entry.title().to_string(), ev.clone());
    let link = |keys: &[&str]| -> Fact<String> {
        keys.iter()
            .find_map(|k| entry.str(k))
            .map(|u| Fact::declared(u.to_string(), ev.clone()))
            .unwrap_or_default()
    };
    card.release.links.paper = link(&["paper_url", "arxiv_url", "doi_url", "venue_url"]);
    card.release.links.code = link(&["code_url"]);
    card.release.links.data = link(&["data_url", "huggingface_url"]);
    card.release.links.project = link(&["project_url"]);
    let contracts = entry.list("verification_contract");
    if !contracts.is_empty() {
        let contract = if contracts.len() == 1 {
            contracts[0]
        } else {
            "mixed"
        };
        card.verification.contract = Fact::declared(contract.to_string(), ev.clone());
    }
    let granularity: Vec<String> = entry
        .list("supervision_granularity")
        .iter()
        .map(|g| granularity_to_verity(g).to_string())
        .collect();
    if !granularity.is_empty() {
        card.verification.granularity = Fact::declared(granularity, ev.clone());
    }
    let uses: Vec<String> = entry
        .list("training_use")
        .iter()
        .map(|s| s.to_string())
        .collect();
    if !uses.is_empty() {
        card.usage.training_use = Fact::declared(uses, ev.clone());
    }
    let domains: Vec<String> = entry
        .list("domains")
        .iter()
        .map(|s| s.to_string())
        .collect();
    if !domains.is_empty() {
        card.released.domains = Fact::declared(domains, ev.clone());
    }
    if let Some(facts) = entry.release_facts() {
        let fev = format!("atlas release_facts.md ({})", facts.release);
        card.release.license = text_fact(&facts.license, &fev);
        if let Some(n) = leading_integer(&facts.size) {
            card.released.counts = Fact::declared(
                Counts {
                    records: n,
                    attempts: None,
                    by_kind: Default::default(),
                },
                format!("{fev}: {}", facts.size),
            );
        }
        let base = facts
            .model_trained
            .split('→')
            .next()
            .unwrap_or("")
            .to_string();
        card.factors.base_model = text_fact(&base, &fev);
        card.construction.generators = match text_fact(&facts.teacher, &fev) {
            Fact::Value {
                value,
                provenance,
                evidence,
            } => Fact::Value {
                value: vec![GeneratorUse {
                    model: value,
                    params: Map::new(),
                    attempts: None,
                }],
                provenance,
                evidence,
            },
            Fact::NotApplicable {
                provenance,
                evidence,
            } => Fact::NotApplicable {
                provenance,
                evidence,
            },
            Fact::Unknown { provenance, note } => Fact::Unknown { provenance, note },
        };
        card.factors.verifier = match text_fact(&facts.verifier, &fev) {
            Fact::Value {
                value,
                provenance,
                evidence,
            } => Fact::Value {
                value: vec![VerifierFact {
                    name: value,
                    version: "unknown".into(),
                    contract: card
                        .verification
                        .contract
                        .value()
                        .cloned()
                        .unwrap_or_else(|| "unknown".into()),
                    imported: false,
                }],
                provenance,
                evidence,
            },
            Fact::NotApplicable {
                provenance,
                evidence,
            } => Fact::NotApplicable {
                provenance,
                evidence,
            },
            Fact::Unknown { provenance, note } => Fact::Unknown { provenance, note },
        };
    }
    card
}
