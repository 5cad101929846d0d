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

fn report(name: &str, workers: usize, jobs: usize, elapsed: Duration) -> f64 {
    let per_second = jobs as f64 / elapsed.as_secs_f64();
    let ms = elapsed.as_secs_f64() * 1000.0 / jobs as f64;
    println!("| {name} | {workers} | {jobs} | {per_second:.1} | {ms:.2} |");
    per_second
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
        wall_timeout: Duration::from_secs(30),
        ..Limits::default()
    };

    println!("| workload | workers | runs | runs/s | ms/run (wall / runs) |");
    println!("|---|---:|---:|---:|---:|");
    let mut summary = Vec::new();
    for workers in [1, 2] {
        let true_argv = vec!["/bin/true".to_string()];
        let plain_true = parallel(workers, repeats, |_| assert!(plain(&true_argv, &dir, b"")));
        let a = report("`/bin/true`, plain", workers, repeats, plain_true);
        let spec = RunSpec {
            argv: true_argv.clone(),
            limits,
            ..RunSpec::default()
        };
        let boxed_true = parallel(workers, repeats, |_| {
            assert!(sandbox.run(&spec).expect("run").success())
        });
        let b = report("`/bin/true`, sandboxed", workers, repeats, boxed_true);
        summary.push(("/bin/true", workers, a, b));

        let py_argv = vec![interpreter.clone(), "main.py".to_string()];
        let plain_py = parallel(workers, repeats, |_| assert!(plain(&py_argv, &dir, b"")));
        let a = report(
            "`python3 main.py` (print), plain",
            workers,
            repeats,
            plain_py,
        );
        let spec = RunSpec {
            argv: python.argv_for("{code}/main.py"),
            files: vec![SandboxFile::new("main.py", trivial)],
            env: python.env.clone(),
            limits,
            ..RunSpec::default()
        };
        let boxed_py = parallel(workers, repeats, |_| {
            assert!(sandbox.run(&spec).expect("run").success())
        });
        let b = report(
            "`python3 main.py` (print), sandboxed",
            workers,
            repeats,
            boxed_py,
        );
        summary.push(("python print", workers, a, b));
    }

    // HumanEval canonical solutions.
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
    for workers in [1, 2] {
        let jobs = programs.len();
        let plain_he = parallel(workers, jobs, |i| {
            assert!(plain(
                &[interpreter.clone(), format!("he{i}.py")],
                &dir,
                b""
            ))
        });
        let a = report(
            "HumanEval canonical (164 scripts), plain",
            workers,
            jobs,
            plain_he,
        );
        let boxed_he = parallel(workers, jobs, |i| {
            let spec = RunSpec {
                argv: python.argv_for("{code}/main.py"),
                files: vec![SandboxFile::new("main.py", programs[i].as_str())],
                env: python.env.clone(),
                limits,
                ..RunSpec::default()
            };
            assert!(sandbox.run(&spec).expect("run").success());
        });
        let b = report("HumanEval canonical, sandboxed", workers, jobs, boxed_he);
        summary.push(("HumanEval script", workers, a, b));
        let harness_he = parallel(workers, jobs, |i| {
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
        });
        report(
            "HumanEval canonical, `code` harness (sandboxed, per-test results)",
            workers,
            jobs,
            harness_he,
        );
    }
    println!();
    println!("| workload | workers | plain runs/s | sandboxed runs/s | ratio sandboxed/plain | overhead ms/run |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, workers, plain_rate, boxed_rate) in summary {
        let overhead = (1000.0 / boxed_rate - 1000.0 / plain_rate) * workers as f64;
        println!(
            "| {name} | {workers} | {plain_rate:.1} | {boxed_rate:.1} | {:.2} | {overhead:.1} |",
            boxed_rate / plain_rate
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
