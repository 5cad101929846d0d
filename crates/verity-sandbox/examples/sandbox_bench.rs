//! Sandbox throughput benchmark (driven by `bench/sandbox/run.sh`).
//!
//! Measures runs per second, with 1 and 2 workers, of:
//! - `/bin/true` and a trivial Python program, plain `std::process::Command` (no isolation) vs
//!   `Sandbox::run` (namespaces + new root + seccomp + rlimits);
//! - the 164 HumanEval canonical solutions as one script each (`python3 prog.py`), plain vs
//!   sandboxed, and through the full `code` harness (driver with per-test results).
//!
//! Usage: sandbox_bench HUMANEVAL_JSONL_GZ [REPEATS]

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use verity_sandbox::{
    CodeRunner, HarnessOptions, Language, Limits, Outcome, RunSpec, Sandbox, SandboxConfig,
    SandboxFile, TestSuite,
};

fn parallel(workers: usize, jobs: usize, job: impl Fn(usize) + Sync) -> Duration {
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= jobs {
                    break;
                }
                job(index);
            });
        }
    });
    start.elapsed()
}

fn plain(argv: &[String], dir: &std::path::Path, stdin: &[u8]) -> bool {
    use std::io::Write;
    let mut child = std::process::Command::new(&argv[0])
        .args(&argv[1..])
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin);
    }
    child.wait_with_output().expect("wait").status.success()
}

/// Per-run latencies of the two modes, measured in interleaved pairs (plain and sandboxed
/// alternate in each job, so load drift on a shared machine hits both equally).
struct Pairs {
    plain: Vec<f64>,
    sandboxed: Vec<f64>,
    elapsed: Duration,
}

fn paired(
    workers: usize,
    jobs: usize,
    run_plain: impl Fn(usize) + Sync,
    run_boxed: impl Fn(usize) + Sync,
) -> Pairs {
    let results = std::sync::Mutex::new((Vec::new(), Vec::new()));
    let elapsed = parallel(workers, jobs, |index| {
        let time = |f: &dyn Fn()| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1000.0
        };
        let (a, b) = if index % 2 == 0 {
            let a = time(&|| run_plain(index));
            (a, time(&|| run_boxed(index)))
        } else {
            let b = time(&|| run_boxed(index));
            (time(&|| run_plain(index)), b)
        };
        let mut guard = results.lock().expect("lock");
        guard.0.push(a);
        guard.1.push(b);
    });
    let (plain, sandboxed) = results.into_inner().expect("lock");
    Pairs {
        plain,
        sandboxed,
        elapsed,
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    if sorted.is_empty() {
        0.0
    } else {
        sorted[sorted.len() / 2]
    }
}

fn row(name: &str, workers: usize, pairs: &Pairs) {
    let jobs = pairs.plain.len() as f64;
    // Throughput of each mode: its share of the total busy time, spread over the workers.
    let plain_total: f64 = pairs.plain.iter().sum::<f64>() / 1000.0 / workers as f64;
    let boxed_total: f64 = pairs.sandboxed.iter().sum::<f64>() / 1000.0 / workers as f64;
    let plain_rate = jobs / plain_total;
    let boxed_rate = jobs / boxed_total;
    let differences: Vec<f64> = pairs
        .sandboxed
        .iter()
        .zip(&pairs.plain)
        .map(|(b, a)| b - a)
        .collect();
    println!(
        "| {name} | {workers} | {} | {plain_rate:.1} | {boxed_rate:.1} | {:.2} | {:.1} | {:.1} | {:.1} |",
        pairs.plain.len(),
        boxed_rate / plain_rate,
        median(&pairs.plain),
        median(&pairs.sandboxed),
        median(&differences),
    );
    let _ = pairs.elapsed;
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let humaneval = args
        .get(1)
        .expect("usage: sandbox_bench HUMANEVAL_JSONL_GZ [REPEATS]");
    let repeats: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(200);
    let python = Language::python("python3").expect("python3");
    let config = SandboxConfig {
        read_only_paths: python.read_only_paths.clone(),
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::new(config, 2).expect("sandbox");
    let dir = std::env::temp_dir().join(format!("verity-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let trivial = "print(1)\n";
    std::fs::write(dir.join("main.py"), trivial).expect("write");
    let interpreter = python.interpreter().to_string();
    let limits = Limits {
        wall_timeout: Duration::from_secs(60),
        ..Limits::default()
    };

    // HumanEval canonical solutions as self-checking scripts.
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(humaneval).expect("humaneval"))
        .read_to_string(&mut text)
        .expect("gzip");
    let rows: Vec<serde_json::Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let programs: Vec<String> = rows
        .iter()
        .map(|row| {
            format!(
                "{}{}\n\n{}\n\ncheck({})\n",
                row["prompt"].as_str().expect("prompt"),
                row["canonical_solution"].as_str().expect("solution"),
                row["test"].as_str().expect("test"),
                row["entry_point"].as_str().expect("entry")
            )
        })
        .collect();
    for (index, program) in programs.iter().enumerate() {
        std::fs::write(dir.join(format!("he{index}.py")), program).expect("write");
    }
    let runner = CodeRunner::new(&sandbox, python.clone(), HarnessOptions::default());

    println!("| workload | workers | pairs | plain runs/s | sandboxed runs/s | ratio | plain median ms | sandboxed median ms | median overhead ms/run |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for workers in [1, 2] {
        let true_argv = vec!["/bin/true".to_string()];
        let spec = RunSpec {
            argv: true_argv.clone(),
            limits,
            ..RunSpec::default()
        };
        let pairs = paired(
            workers,
            repeats * 2,
            |_| assert!(plain(&true_argv, &dir, b"")),
            |_| assert!(sandbox.run(&spec).expect("run").success()),
        );
        row("`/bin/true`", workers, &pairs);

        let py_argv = vec![interpreter.clone(), "main.py".to_string()];
        let spec = RunSpec {
            argv: python.argv_for("{code}/main.py"),
            files: vec![SandboxFile::new("main.py", trivial)],
            env: python.env.clone(),
            limits,
            ..RunSpec::default()
        };
        let pairs = paired(
            workers,
            repeats,
            |_| assert!(plain(&py_argv, &dir, b"")),
            |_| assert!(sandbox.run(&spec).expect("run").success()),
        );
        row("`python3 main.py` (`print(1)`)", workers, &pairs);

        let jobs = programs.len();
        let pairs = paired(
            workers,
            jobs,
            |i| {
                assert!(plain(
                    &[interpreter.clone(), format!("he{i}.py")],
                    &dir,
                    b""
                ))
            },
            |i| {
                let spec = RunSpec {
                    argv: python.argv_for("{code}/main.py"),
                    files: vec![SandboxFile::new("main.py", programs[i].as_str())],
                    env: python.env.clone(),
                    limits,
                    ..RunSpec::default()
                };
                assert!(sandbox.run(&spec).expect("run").success());
            },
        );
        row("HumanEval canonical, script + `check()`", workers, &pairs);

        let pairs = paired(
            workers,
            jobs,
            |i| {
                assert!(plain(
                    &[interpreter.clone(), format!("he{i}.py")],
                    &dir,
                    b""
                ))
            },
            |i| {
                let row = &rows[i];
                let suite = TestSuite::Assert {
                    prelude: None,
                    setup: None,
                    code: row["test"].as_str().expect("test").to_string(),
                    entry_point: row["entry_point"].as_str().map(str::to_string),
                };
                let program = format!(
                    "{}{}",
                    row["prompt"].as_str().expect("prompt"),
                    row["canonical_solution"].as_str().expect("solution")
                );
                let report = runner.run(&program, &suite).expect("run");
                assert_eq!(report.outcome, Outcome::Pass);
            },
        );
        row(
            "HumanEval canonical, full `code` harness vs plain script",
            workers,
            &pairs,
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
