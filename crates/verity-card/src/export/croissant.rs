//! MLCommons Croissant 1.1 JSON-LD with the Responsible-AI (RAI 1.0) properties, W3C PROV
//! properties (`prov:wasDerivedFrom`, `prov:wasGeneratedBy`, `prov:wasAttributedTo`) and the
//! `verity:` extension namespace ([`VERITY_NS`]) for the structured knobs neither standard has:
//! `verity:verifier`, `verity:generator` (model + decoding), `verity:inferenceBudget`,
//! `verity:optimizer`, `verity:scaffold`, `verity:baseModel`, `verity:curationLevel`.
//! Extension values are JSON literals (`@type: @json`), so consumers that do not know the
//! namespace can ignore them.
//!
//! Known failure modes: record-set fields are the released rows' top-level columns with a
//! coarse type (objects and arrays as `sc:Text`); nested record fields are not described. The
//! `prov:wasGeneratedBy` activities carry stage names and row counts, not times.

use super::text;
use crate::check;
use crate::model::*;
use serde_json::{json, Map, Value};

/// IRI of verity's extension namespace.
pub const VERITY_NS: &str = "https://verity.example/ns/card/1#";

/// Croissant spec version written to `conformsTo`.
pub const CROISSANT_VERSION: &str = "http://mlcommons.org/croissant/1.1";
/// RAI spec version written to `conformsTo`.
pub const RAI_VERSION: &str = "http://mlcommons.org/croissant/RAI/1.0";

fn context() -> Value {
    json!({
        "@language": "en",
        "@vocab": "https://schema.org/",
        "arrayShape": "cr:arrayShape",
        "citeAs": "cr:citeAs",
        "column": "cr:column",
        "conformsTo": "dct:conformsTo",
        "containedIn": "cr:containedIn",
        "cr": "http://mlcommons.org/croissant/",
        "rai": "http://mlcommons.org/croissant/RAI/",
        "prov": "http://www.w3.org/ns/prov#",
        "verity": VERITY_NS,
        "data": {"@id": "cr:data", "@type": "@json"},
        "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
        "dct": "http://purl.org/dc/terms/",
        "equivalentProperty": "cr:equivalentProperty",
        "examples": {"@id": "cr:examples", "@type": "@json"},
        "extract": "cr:extract",
        "field": "cr:field",
        "fileProperty": "cr:fileProperty",
        "fileObject": "cr:fileObject",
        "fileSet": "cr:fileSet",
        "format": "cr:format",
        "includes": "cr:includes",
        "isArray": "cr:isArray",
        "isLiveDataset": "cr:isLiveDataset",
        "jsonPath": "cr:jsonPath",
        "key": "cr:key",
        "md5": "cr:md5",
        "parentField": "cr:parentField",
        "path": "cr:path",
        "recordSet": "cr:recordSet",
        "references": "cr:references",
        "regex": "cr:regex",
        "repeated": "cr:repeated",
        "replace": "cr:replace",
        "samplingRate": "cr:samplingRate",
        "sc": "https://schema.org/",
        "separator": "cr:separator",
        "source": "cr:source",
        "subField": "cr:subField",
        "transform": "cr:transform",
        "verity:verifier": {"@type": "@json"},
        "verity:generator": {"@type": "@json"},
        "verity:inferenceBudget": {"@type": "@json"},
        "verity:optimizer": {"@type": "@json"},
        "verity:scaffold": {"@type": "@json"},
        "verity:baseModel": {"@type": "@json"},
        "verity:curationLevel": {"@type": "@json"}
    })
}

/// SPDX license URL (`MIT` -> `https://spdx.org/licenses/MIT.html`).
pub fn license_url(license: &str) -> String {
    if license.starts_with("http://") || license.starts_with("https://") {
        license.to_string()
    } else {
        format!("https://spdx.org/licenses/{}.html", license.trim())
    }
}

fn encoding_format(path: &str) -> &'static str {
    let lower = path.to_lowercase();
    let stem = lower
        .trim_end_matches(".gz")
        .trim_end_matches(".zst")
        .trim_end_matches(".zstd");
    if stem.ends_with(".parquet") {
        "application/x-parquet"
    } else if stem.ends_with(".jsonl") || stem.ends_with(".ndjson") {
        "application/jsonlines"
    } else if stem.ends_with(".json") {
        "application/json"
    } else if stem.ends_with(".csv") {
        "text/csv"
    } else {
        "application/octet-stream"
    }
}

fn data_type(dtype: &str) -> &'static str {
    match dtype {
        "integer" => "sc:Integer",
        "number" => "sc:Float",
        "boolean" => "sc:Boolean",
        _ => "sc:Text",
    }
}

fn slug(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if out.is_empty() {
        "item".into()
    } else {
        out
    }
}

/// Extension value: the fact with its provenance.
fn ext<T: serde::Serialize>(fact: &Fact<T>) -> Value {
    serde_json::to_value(fact).unwrap_or(Value::Null)
}

/// The Croissant JSON-LD document (file paths as in [`super::data_path`] without a base).
pub fn render(card: &Card) -> Value {
    render_at(card, None)
}

/// The Croissant JSON-LD document, to be written in directory `base`.
pub fn render_at(card: &Card, base: Option<&std::path::Path>) -> Value {
    let report = check::check(card);
    let mut doc = Map::new();
    doc.insert("@context".into(), context());
    doc.insert("@type".into(), json!("sc:Dataset"));
    doc.insert("conformsTo".into(), json!([CROISSANT_VERSION, RAI_VERSION]));
    doc.insert("name".into(), json!(text(&card.release.name)));
    let description = card
        .release
        .description
        .value()
        .cloned()
        .unwrap_or_else(|| {
            format!(
            "{} (object kinds: {}; verification contract: {}). Release card generated by verity.",
            text(&card.release.name),
            text(&card.released.object_kinds),
            text(&card.verification.contract)
        )
        });
    doc.insert("description".into(), json!(description));
    if let Some(l) = card.release.license.value() {
        doc.insert("license".into(), json!(license_url(l)));
    }
    let url = [
        &card.release.links.data,
        &card.release.links.project,
        &card.release.links.code,
        &card.release.links.paper,
    ]
    .iter()
    .find_map(|f| f.value().cloned());
    if let Some(url) = url {
        doc.insert("url".into(), json!(url));
    }
    if let Some(creators) = card.release.creators.value() {
        doc.insert(
            "creator".into(),
            json!(creators
                .iter()
                .map(|c| json!({"@type": "sc:Organization", "name": c}))
                .collect::<Vec<_>>()),
        );
    }
    let date = card.generated_at.get(..10).unwrap_or("").to_string();
    if !date.is_empty() {
        doc.insert("datePublished".into(), json!(date));
    }
    if let Some(v) = card.release.version.value() {
        doc.insert("version".into(), json!(v));
    }
    if let Some(c) = card.release.citation.value() {
        doc.insert("citeAs".into(), json!(c));
    }
    if let Some(langs) = card.release.languages.value() {
        doc.insert("inLanguage".into(), json!(langs));
    }
    let mut keywords = vec!["reasoning".to_string()];
    if let Some(kinds) = card.released.object_kinds.value() {
        keywords.extend(kinds.iter().cloned());
    }
    doc.insert("keywords".into(), json!(keywords));

    // Distribution and record set.
    let mut distribution = Vec::new();
    let mut file_ids = Vec::new();
    if let Some(files) = card.released.files.value() {
        for f in files {
            let name = std::path::Path::new(&f.path)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| f.path.clone());
            let id = slug(&name);
            let url = super::data_path(&f.path, base);
            file_ids.push(id.clone());
            distribution.push(json!({
                "@type": "cr:FileObject",
                "@id": id,
                "name": name,
                "contentUrl": url,
                "encodingFormat": encoding_format(&f.path),
                "contentSize": format!("{} B", f.bytes),
                "sha256": f.sha256,
            }));
        }
    }
    if !distribution.is_empty() {
        doc.insert("distribution".into(), json!(distribution));
        if let (Some(cols), Some(first)) = (card.released.columns.value(), file_ids.first()) {
            let fields: Vec<Value> = cols
                .iter()
                .map(|c| {
                    json!({
                        "@type": "cr:Field",
                        "@id": format!("records/{}", slug(&c.name)),
                        "name": c.name,
                        "description": format!("column `{}` ({})", c.name, c.dtype),
                        "dataType": data_type(&c.dtype),
                        "source": {
                            "fileObject": {"@id": first},
                            "extract": {"column": c.name}
                        }
                    })
                })
                .collect();
            if !fields.is_empty() {
                doc.insert(
                    "recordSet".into(),
                    json!([{
                        "@type": "cr:RecordSet",
                        "@id": "records",
                        "name": "records",
                        "description": format!("One row per record ({}).", text(&card.released.object_kinds)),
                        "field": fields,
                    }]),
                );
            }
        }
    }

    // RAI.
    let mut collection = format!(
        "Prompt sources: {}. Trace writer: {}. Generators: {}.",
        sources_text(card),
        text(&card.construction.trace_writer),
        generators_text(card)
    );
    if let Some(s) = card.construction.search_substrate.value() {
        collection.push_str(&format!(" Search substrate: {s}."));
    }
    doc.insert("rai:dataCollection".into(), json!(collection));
    let collection_type = match card.construction.trace_writer.value().map(String::as_str) {
        Some("human") => "Manual Human Curator",
        _ => "Software Collection",
    };
    doc.insert("rai:dataCollectionType".into(), json!(collection_type));
    doc.insert(
        "rai:dataAnnotationProtocol".into(),
        json!(format!(
            "Verification contract: {}. Granularity: {}. Verifiers: {}. Results: {}.",
            text(&card.verification.contract),
            text(&card.verification.granularity),
            verifiers_text(card),
            text(&card.verification.results)
        )),
    );
    let mut tools: Vec<String> = Vec::new();
    if let Some(vs) = card.factors.verifier.value() {
        tools.extend(vs.iter().map(|v| format!("{}@{}", v.name, v.version)));
    }
    if let Some(gs) = card.construction.generators.value() {
        tools.extend(gs.iter().map(|g| g.model.clone()));
    }
    tools.push(card.generated_by.clone());
    doc.insert("rai:machineAnnotationTools".into(), json!(tools));
    doc.insert(
        "rai:dataPreprocessingProtocol".into(),
        json!(preprocessing(card)),
    );
    let mut limitations: Vec<String> = Vec::new();
    if let Some(f) = card.quality.known_failure_modes.value() {
        limitations.extend(f.iter().cloned());
    }
    if let Some(f) = card.verification.failure_modes.value() {
        limitations.extend(f.iter().map(|m| format!("verifier: {m}")));
    }
    if !report.missing.is_empty() {
        limitations.push(format!(
            "Undisclosed facts: {}.",
            report
                .missing
                .iter()
                .map(|m| m.path.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    doc.insert("rai:dataLimitations".into(), json!(limitations));
    if let Some(uses) = card.usage.training_use.value() {
        doc.insert("rai:dataUseCases".into(), json!(uses));
    }

    // PROV.
    let derived: Vec<Value> = card
        .construction
        .prompt_sources
        .value()
        .map(|sources| {
            sources
                .iter()
                .map(|s| {
                    if s.source.starts_with("http") {
                        json!(s.source)
                    } else {
                        json!({"@type": "prov:Entity", "prov:label": s.source})
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    if !derived.is_empty() {
        doc.insert("prov:wasDerivedFrom".into(), json!(derived));
    }
    let activities: Vec<Value> = card
        .scaling
        .funnel
        .value()
        .map(|steps| {
            steps
                .iter()
                .map(|s| {
                    json!({
                        "@type": "prov:Activity",
                        "prov:label": format!("verity {}: {} rows in, {} rows out", s.stage, s.rows_in, s.rows_out),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    if !activities.is_empty() {
        doc.insert("prov:wasGeneratedBy".into(), json!(activities));
    }
    let mut agents = vec![json!({"@type": "prov:SoftwareAgent", "prov:label": card.generated_by})];
    if let Some(gs) = card.construction.generators.value() {
        agents.extend(
            gs.iter()
                .map(|g| json!({"@type": "prov:SoftwareAgent", "prov:label": g.model})),
        );
    }
    if let Some(cs) = card.release.creators.value() {
        agents.extend(
            cs.iter()
                .map(|c| json!({"@type": "prov:Agent", "prov:label": c})),
        );
    }
    doc.insert("prov:wasAttributedTo".into(), json!(agents));

    // verity extension.
    doc.insert("verity:verifier".into(), ext(&card.factors.verifier));
    doc.insert(
        "verity:generator".into(),
        ext(&card.construction.generators),
    );
    doc.insert(
        "verity:inferenceBudget".into(),
        ext(&card.factors.inference_budget),
    );
    doc.insert("verity:optimizer".into(), ext(&card.factors.optimizer));
    doc.insert("verity:scaffold".into(), ext(&card.factors.scaffold));
    doc.insert("verity:baseModel".into(), ext(&card.factors.base_model));
    doc.insert(
        "verity:curationLevel".into(),
        json!({"level": report.level_label, "reuse": report.reuse}),
    );
    Value::Object(doc)
}

fn sources_text(card: &Card) -> String {
    match card.construction.prompt_sources.value() {
        Some(sources) => sources
            .iter()
            .map(|s| match s.records {
                Some(n) => format!("{} ({n} records)", s.source),
                None => s.source.clone(),
            })
            .collect::<Vec<_>>()
            .join(", "),
        None => text(&card.construction.prompt_sources),
    }
}

fn generators_text(card: &Card) -> String {
    match card.construction.generators.value() {
        Some(gens) => gens
            .iter()
            .map(|g| {
                if g.params.is_empty() {
                    g.model.clone()
                } else {
                    format!("{} {}", g.model, Value::Object(g.params.clone()))
                }
            })
            .collect::<Vec<_>>()
            .join("; "),
        None => text(&card.construction.generators),
    }
}

fn verifiers_text(card: &Card) -> String {
    match card.factors.verifier.value() {
        Some(vs) => vs
            .iter()
            .map(|v| format!("{}@{} ({})", v.name, v.version, v.contract))
            .collect::<Vec<_>>()
            .join(", "),
        None => text(&card.factors.verifier),
    }
}

fn preprocessing(card: &Card) -> String {
    let mut parts = Vec::new();
    if let Some(filters) = card.construction.filters.value() {
        for f in filters {
            let rej = f
                .rejections
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join(", ");
            parts.push(format!(
                "{}: {} -> {} rows{}",
                f.stage,
                f.rows_in,
                f.rows_out,
                if rej.is_empty() {
                    String::new()
                } else {
                    format!(" ({rej})")
                }
            ));
        }
    }
    parts.push(format!("Deduplication: {}", text(&card.quality.dedup)));
    parts.push(format!(
        "Decontamination: {}",
        text(&card.quality.decontamination)
    ));
    parts.join(". ")
}
