//! Judge benchmark (driven by `bench/sandbox/judge.sh`): tests per second of verity's `code`
//! harness against a plain `subprocess` runner without any isolation, in one run, on the same
//! inputs, measured in interleaved pairs.
//!
//! - Python: the HumanEval and MBPP canonical solutions with their tests. Plain: one
//!   `python3` process running program + tests (the asserts). verity: the judge-separated
//!   harness (judge and candidate in two sandboxes). Also the same script in one sandboxed
//!   process, the cost of a single-process harness, for the "judge separation" factor.
//! - C++ stdin/stdout: small problems with C++ solutions and several cases each. Plain: `g++
//!   -O2` once per program, then one process per case. verity: compile in the sandbox (cached)
//!   and one sandboxed run per case.
//!
//! Usage: judge_bench HUMANEVAL_JSONL_GZ MBPP_JSONL_GZ [PYTHON_LIMIT]

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use verity_sandbox::harness::compile::CompileCache;
use verity_sandbox::{
    CodeRunner, HarnessOptions, Language, Limits, Outcome, RunSpec, Sandbox, SandboxConfig,
    SandboxFile, TestSuite,
};

fn read_jsonl(path: &str) -> Vec<serde_json::Value> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).expect("data file"))
        .read_to_string(&mut text)
        .expect("gzip");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect()
}

fn plain_run(argv: &[String], dir: &Path, stdin: &[u8]) -> (bool, Vec<u8>) {
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin);
    }
    let output = child.wait_with_output().expect("wait");
    (output.status.success(), output.stdout)
}

struct Python {
    program: String,
    suite: TestSuite,
    script: String,
    tests: usize,
}

fn python_items(humaneval: &str, mbpp: &str) -> Vec<Python> {
    let mut items = Vec::new();
    for row in read_jsonl(humaneval) {
        let program = format!(
            "{}{}",
            row["prompt"].as_str().unwrap(),
            row["canonical_solution"].as_str().unwrap()
        );
        let test = row["test"].as_str().unwrap().to_string();
        let entry = row["entry_point"].as_str().unwrap().to_string();
        items.push(Python {
            script: format!("{program}\n\n{test}\n\ncheck({entry})\n"),
            suite: TestSuite::Assert {
                prelude: None,
                setup: None,
                code: test,
                entry_point: Some(entry),
            },
            program,
            tests: 1,
        });
    }
    for row in read_jsonl(mbpp) {
        let program = row["code"].as_str().unwrap().to_string();
        let tests: Vec<&str> = row["test_list"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t.as_str())
            .collect();
        let setup = row["test_setup_code"]
            .as_str()
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string);
        items.push(Python {
            script: format!(
                "{program}\n\n{}\n\n{}\n",
                setup.clone().unwrap_or_default(),
                tests.join("\n")
            ),
            suite: TestSuite::Assert {
                prelude: None,
                setup,
                code: tests.join("\n"),
                entry_point: None,
            },
            program,
            tests: tests.len(),
        });
    }
    items
}

/// C++ problems: (solution, generator of (input, expected) cases).
fn cpp_items() -> Vec<(String, Vec<(String, String)>)> {
    let mut items = Vec::new();
    let sum = "#include <bits/stdc++.h>\nint main(){long long a,b;std::cin>>a>>b;std::cout<<a+b<<\"\\n\";}\n";
    items.push((
        sum.to_string(),
        (0..8)
            .map(|i: i64| {
                (
                    format!("{} {}\n", i * 7 - 3, i * i),
                    format!("{}\n", i * 7 - 3 + i * i),
                )
            })
            .collect(),
    ));
    let sort = "#include <bits/stdc++.h>\nint main(){int n;std::cin>>n;std::vector<long long>v(n);for(auto&x:v)std::cin>>x;std::sort(v.begin(),v.end());for(int i=0;i<n;i++)std::cout<<v[i]<<(i+1<n?' ':'\\n');}\n";
    items.push((
        sort.to_string(),
        (1..9)
            .map(|n: i64| {
                let values: Vec<i64> = (0..n * 50)
                    .map(|k| (k * 7919 + n * 13) % 1000 - 500)
                    .collect();
                let mut sorted = values.clone();
                sorted.sort();
                let join = |v: &[i64]| {
                    v.iter()
                        .map(|x| x.to_string())
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                (
                    format!("{}\n{}\n", values.len(), join(&values)),
                    format!("{}\n", join(&sorted)),
                )
            })
            .collect(),
    ));
    let prefix = "#include <bits/stdc++.h>\nint main(){int n,q;std::cin>>n>>q;std::vector<long long>p(n+1,0);for(int i=0;i<n;i++){long long x;std::cin>>x;p[i+1]=p[i]+x;}while(q--){int l,r;std::cin>>l>>r;std::cout<<p[r]-p[l-1]<<\"\\n\";}}\n";
    items.push((
        prefix.to_string(),
        (1..9)
            .map(|s: i64| {
                let n = 100 * s;
                let values: Vec<i64> = (0..n).map(|k| (k * 31 + s) % 97).collect();
                let queries: Vec<(i64, i64)> = (0..20)
                    .map(|k| (1 + (k * 7) % n, n - (k * 3) % n))
                    .map(|(a, b)| (a.min(b), a.max(b)))
                    .collect();
                let mut input = format!("{n} {}\n", queries.len());
                input.push_str(
                    &values
                        .iter()
                        .map(|x| x.to_string())
                        .collect::<Vec<_>>()
                        .join(" "),
                );
                input.push('\n');
                let mut output = String::new();
                for (l, r) in &queries {
                    input.push_str(&format!("{l} {r}\n"));
                    output.push_str(&format!(
                        "{}\n",
                        values[(*l - 1) as usize..*r as usize].iter().sum::<i64>()
                    ));
                }
                (input, output)
            })
            .collect(),
    ));
    let gcd = "#include <bits/stdc++.h>\nint main(){int t;std::cin>>t;while(t--){long long a,b;std::cin>>a>>b;std::cout<<std::gcd(a,b)<<\"\\n\";}}\n";
    items.push((
        gcd.to_string(),
        (1..9)
            .map(|s: i64| {
                let pairs: Vec<(i64, i64)> =
                    (1..=10).map(|k| (k * s * 6, k * 4 + s * 10)).collect();
                let gcd = |mut a: i64, mut b: i64| {
                    while b != 0 {
                        let t = a % b;
                        a = b;
                        b = t;
                    }
                    a
                };
                let input = format!(
                    "{}\n{}",
                    pairs.len(),
                    pairs
                        .iter()
                        .map(|(a, b)| format!("{a} {b}\n"))
                        .collect::<String>()
                );
                let output = pairs
                    .iter()
                    .map(|(a, b)| format!("{}\n", gcd(*a, *b)))
                    .collect();
                (input, output)
            })
            .collect(),
    ));
    items
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (humaneval, mbpp) = (args.get(1).expect("usage"), args.get(2).expect("usage"));
    let limit: usize = args
        .get(3)
        .and_then(|v| v.parse().ok())
        .unwrap_or(usize::MAX);
    let python = Language::python("python3").expect("python3");
    let cpp = verity_sandbox::toolchains::discover("cpp").expect("g++");
    let mut read_only_paths = python.read_only_paths.clone();
    read_only_paths.extend(cpp.read_only_paths.iter().cloned());
    let sandbox = Sandbox::new(
        SandboxConfig {
            read_only_paths,
            ..SandboxConfig::default()
        },
        1,
    )
    .expect("sandbox");
    let options = HarnessOptions {
        per_test_timeout: Duration::from_secs(20),
        total_timeout: Duration::from_secs(60),
        parallel_tests: 1,
        ..HarnessOptions::default()
    };
    let dir = std::env::temp_dir().join(format!("verity-judge-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");

    // Python: interleaved pairs (plain, sandboxed single process, judge-separated harness).
    let items: Vec<Python> = python_items(humaneval, mbpp)
        .into_iter()
        .take(limit)
        .collect();
    let runner = CodeRunner::new(&sandbox, python.clone(), options.clone());
    let interpreter = python.interpreter().to_string();
    let (mut plain_s, mut single_s, mut judged_s, mut tests) = (0.0, 0.0, 0.0, 0usize);
    for (index, item) in items.iter().enumerate() {
        let file = dir.join("script.py");
        std::fs::write(&file, &item.script).expect("write");
        let time = |f: &mut dyn FnMut()| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        };
        let mut run_plain = || {
            assert!(
                plain_run(&[interpreter.clone(), "script.py".into()], &dir, b"").0,
                "plain {index}"
            )
        };
        let single = RunSpec {
            argv: python.argv_for("{code}/script.py"),
            files: vec![SandboxFile::new("script.py", item.script.as_str())],
            env: python.env.clone(),
            limits: Limits {
                wall_timeout: Duration::from_secs(60),
                ..Limits::default()
            },
            ..RunSpec::default()
        };
        let mut run_single = || {
            assert!(
                sandbox.run(&single).expect("run").success(),
                "single {index}"
            )
        };
        let mut run_judged = || {
            let report = runner.run(&item.program, &item.suite).expect("run");
            assert_eq!(report.outcome, Outcome::Pass, "judged {index}: {report:?}");
        };
        if index % 2 == 0 {
            plain_s += time(&mut run_plain);
            single_s += time(&mut run_single);
            judged_s += time(&mut run_judged);
        } else {
            judged_s += time(&mut run_judged);
            single_s += time(&mut run_single);
            plain_s += time(&mut run_plain);
        }
        tests += item.tests;
    }
    println!("| workload | items | tests | plain tests/s | verity tests/s | verity / plain | single-process sandboxed tests/s | judge separation factor |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| HumanEval + MBPP canonical (Python, assert-style) | {} | {tests} | {:.1} | {:.1} | {:.2} | {:.1} | {:.2} |",
        items.len(),
        tests as f64 / plain_s,
        tests as f64 / judged_s,
        plain_s / judged_s,
        tests as f64 / single_s,
        judged_s / single_s,
    );

    // C++ stdin/stdout.
    let problems = cpp_items();
    let cache = CompileCache::new();
    let cpp_runner = CodeRunner::new(&sandbox, cpp.clone(), options).with_cache(&cache);
    let gxx = verity_sandbox::toolchains::find_program("g++").expect("g++");
    let (mut plain_s, mut verity_s, mut tests) = (0.0, 0.0, 0usize);
    for (index, (source, cases)) in problems.iter().enumerate() {
        let time = |f: &mut dyn FnMut()| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        };
        let src = dir.join(format!("p{index}.cpp"));
        std::fs::write(&src, source).expect("write");
        let binary = dir.join(format!("p{index}.bin"));
        let mut run_plain = || {
            let status = Command::new(&gxx)
                .args(["-O2", "-std=gnu++17", "-pipe", "-o"])
                .arg(&binary)
                .arg(&src)
                .arg("-lm")
                .status()
                .expect("g++");
            assert!(status.success());
            for (input, expected) in cases {
                let (ok, out) = plain_run(
                    &[binary.to_string_lossy().into_owned()],
                    &dir,
                    input.as_bytes(),
                );
                assert!(
                    ok && String::from_utf8_lossy(&out)
                        .split_whitespace()
                        .eq(expected.split_whitespace())
                );
            }
        };
        let suite = TestSuite::Stdio {
            cases: cases.clone(),
        };
        let mut run_verity = || {
            let report = cpp_runner.run(source, &suite).expect("run");
            assert_eq!(report.outcome, Outcome::Pass, "{report:?}");
        };
        if index % 2 == 0 {
            plain_s += time(&mut run_plain);
            verity_s += time(&mut run_verity);
        } else {
            verity_s += time(&mut run_verity);
            plain_s += time(&mut run_plain);
        }
        tests += cases.len();
    }
    println!(
        "| C++ stdin/stdout (compile once + one run per case) | {} | {tests} | {:.1} | {:.1} | {:.2} | | |",
        problems.len(),
        tests as f64 / plain_s,
        tests as f64 / verity_s,
        plain_s / verity_s,
    );
    let _ = std::fs::remove_dir_all(&dir);
}
