//! Bad and extreme inputs: empty texts, one-word problems, 10 MB traces, non-Latin scripts,
//! all-duplicate inputs. Each must give a sensible result without panicking, with bounded
//! index memory.

use verity_dedup::benchmarks::builtin;
use verity_dedup::decontam::{DecontamConfig, DecontamIndex, Method};
use verity_dedup::dedup::{dedup_texts, DedupConfig, Mode};

#[test]
fn empty_and_whitespace_texts_group_exactly_but_never_near() {
    let texts = ["", "   ", "\n\t", "", "x"];
    let out = dedup_texts(&DedupConfig::default(), &texts);
    assert_eq!(out.dup_of, vec![None, Some(0), Some(0), Some(0), None]);
    assert_eq!(out.stats.empty_texts, 4);
    let near = DedupConfig {
        mode: Mode::Near,
        ..DedupConfig::default()
    };
    assert!(dedup_texts(&near, &texts)
        .dup_of
        .iter()
        .all(Option::is_none));
}

#[test]
fn one_word_problems_match_only_when_equal() {
    let texts = ["Compute.", "compute", "Simplify", "Evaluate!", "COMPUTE"];
    let out = dedup_texts(
        &DedupConfig {
            mode: Mode::Near,
            ..DedupConfig::default()
        },
        &texts,
    );
    assert_eq!(out.dup_of, vec![None, Some(0), None, None, Some(0)]);
}

fn big_trace(seed: u64, bytes: usize) -> String {
    let mut s = String::with_capacity(bytes + 64);
    let mut x = seed;
    while s.len() < bytes {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        s.push_str(&format!(
            "step {} gives {} ",
            (x >> 40) % 1000,
            (x >> 20) % 977
        ));
    }
    s
}

#[test]
fn ten_megabyte_traces_dedup_and_decontaminate() {
    let a = big_trace(1, 10 << 20);
    let b = big_trace(2, 10 << 20);
    let mut a_edit = a.clone();
    a_edit.replace_range(1000..1010, "EDITED TXT");
    let out = dedup_texts(&DedupConfig::default(), &[&a, &b, &a_edit]);
    assert_eq!(out.dup_of, vec![None, None, Some(0)]);
    // Index memory does not depend on text length.
    assert!(
        out.stats.index_bytes < 3 * 2048,
        "{}",
        out.stats.index_bytes
    );

    let gsm8k = builtin("gsm8k").unwrap().load().unwrap();
    let index = DecontamIndex::build(std::slice::from_ref(&gsm8k), DecontamConfig::default());
    let mut leaked = b.clone();
    leaked.push_str(&gsm8k.items[10].problem);
    let mut hits = Vec::new();
    index.check("trace", &leaked, false, &mut hits);
    assert_eq!(hits.len(), 1);
    assert_eq!(&*hits[0].item, "10");
    assert!(hits[0].span.len() <= 300);
    hits.clear();
    index.check("problem", &a, true, &mut hits);
    assert!(hits.is_empty());
}

#[test]
fn non_latin_scripts_are_deduplicated() {
    let zh = "一个农场有十二头牛和七只羊。农夫又买了五头牛，然后卖掉了三只羊。现在农场里一共有多少只动物？请一步一步地思考，并把最终答案写在方框里。";
    let zh_edit = zh.replace("五头牛", "六头牛");
    let ru = "На ферме двенадцать коров и семь овец. Фермер купил ещё пять коров и продал трёх овец. Сколько животных теперь на ферме? Рассуждай шаг за шагом.";
    let ar = "في المزرعة اثنتا عشرة بقرة وسبعة خراف. اشترى المزارع خمس بقرات أخرى وباع ثلاثة خراف. كم عدد الحيوانات في المزرعة الآن؟";
    let out = dedup_texts(
        &DedupConfig::default(),
        &[zh, &zh_edit, ru, ar, &ru.to_uppercase()],
    );
    assert_eq!(out.dup_of, vec![None, Some(0), None, None, Some(2)]);
}

#[test]
fn all_duplicate_input_is_one_cluster_with_bounded_memory() {
    let text = big_trace(7, 4000);
    let texts: Vec<&str> = vec![text.as_str(); 20_000];
    let out = dedup_texts(&DedupConfig::default(), &texts);
    assert_eq!(out.clusters.len(), 1);
    assert_eq!(out.clusters[0].members.len(), 20_000);
    assert_eq!(out.stats.exact_removed, 19_999);
    let per_record = out.stats.index_bytes as f64 / 20_000.0;
    assert!(per_record < 200.0, "{per_record} bytes per record");
}

#[test]
fn short_benchmark_problems_are_found_with_edits() {
    let gsm8k = builtin("gsm8k").unwrap().load().unwrap();
    let index = DecontamIndex::build(std::slice::from_ref(&gsm8k), DecontamConfig::default());
    // The shortest GSM8K problem, with a prompt prefix and one word changed.
    let shortest = gsm8k
        .items
        .iter()
        .min_by_key(|i| i.problem.split_whitespace().count())
        .unwrap();
    let words: Vec<&str> = shortest.problem.split_whitespace().collect();
    let mut edited: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    let mid = edited.len() / 2;
    edited[mid] = "banana".into();
    let text = format!("Question: {}", edited.join(" "));
    let mut hits = Vec::new();
    index.check("problem", &text, true, &mut hits);
    assert!(
        hits.iter()
            .any(|h| *h.item == *shortest.id && h.method != Method::Ngram),
        "{} -> {hits:?}",
        shortest.problem
    );
}
