//! Nothing outlives verity: a process holding a sandboxed run (this test binary, re-run as a
//! helper) is killed with SIGTERM, SIGINT, SIGHUP and SIGKILL; no process of the run may remain,
//! and its temporary root is gone after the next sandbox starts. Also: the host's command line
//! and environment are invisible inside, `/dev/shm` works, and a multi-process memory hog is
//! stopped by the whole-tree limit.

use crate::common::fixture;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use verity_sandbox::harness::{CodeRunner, HarnessOptions, Outcome, TestSuite};
use verity_sandbox::{Limits, RunSpec, Sandbox, SandboxConfig, SandboxFile, Termination};

const HELPER_ENV: &str = "VERITY_SANDBOX_KILL_HELPER";

/// Run by the kill test in a child process: holds one long sandboxed run (and, with
/// `pair`, a judge/candidate pair) until it is killed.
#[test]
#[ignore = "helper process of killing_verity_with_any_signal_leaves_nothing"]
fn helper_holds_sandboxed_runs() {
    let Some(mode) = std::env::var_os(HELPER_ENV) else {
        return;
    };
    let fx = fixture().expect("fixture");
    let config = SandboxConfig {
        read_only_paths: fx.python.read_only_paths.clone(),
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::new(config, 2).expect("sandbox");
    let sleeper = RunSpec {
        argv: fx.python.argv_for("{code}/held.py"),
        files: vec![SandboxFile::new(
            "held.py",
            "import os, time\nif os.fork() == 0:\n    os.setsid()\ntime.sleep(600)\n",
        )],
        env: fx.python.env.clone(),
        limits: Limits {
            wall_timeout: Duration::from_secs(600),
            ..Limits::default()
        },
        ..RunSpec::default()
    };
    if mode == "pair" {
        let _ = sandbox.run_pair(&sleeper, &sleeper);
    } else {
        let _ = sandbox.run(&sleeper);
    }
}

/// (pid, parent pid, command line) of every host process.
fn processes() -> Vec<(u32, u32, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.first() == Some(&"Z") {
            continue;
        }
        let ppid = fields.get(1).and_then(|p| p.parse().ok()).unwrap_or(0);
        let cmdline = std::fs::read(entry.path().join("cmdline"))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
            .unwrap_or_default();
        out.push((pid, ppid, cmdline));
    }
    out
}

fn descendants(root: u32) -> Vec<(u32, String)> {
    let all = processes();
    let mut found: Vec<(u32, String)> = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for (pid, ppid, cmdline) in &all {
            if *ppid == parent && !found.iter().any(|(p, _)| p == pid) {
                found.push((*pid, cmdline.clone()));
                frontier.push(*pid);
            }
        }
    }
    found
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            stat.rfind(')')
                .and_then(|i| stat[i + 2..].split_whitespace().next().map(|s| s != "Z"))
                .unwrap_or(false)
        })
        .unwrap_or(false)
}

fn temp_roots_of(pid: u32) -> Vec<PathBuf> {
    std::fs::read_dir(std::env::temp_dir())
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name().is_some_and(|n| {
                        n.to_string_lossy()
                            .starts_with(&format!("verity-sandbox-root-{pid}-"))
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn start_helper(mode: &str) -> Child {
    Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "lifecycle::helper_holds_sandboxed_runs",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(HELPER_ENV, mode)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the helper")
}

#[test]
fn killing_verity_with_any_signal_leaves_nothing() {
    if fixture().is_none() {
        return;
    }
    let cases = [
        (libc::SIGTERM, "single"),
        (libc::SIGINT, "pair"),
        (libc::SIGHUP, "single"),
        (libc::SIGKILL, "pair"),
    ];
    for (signal, mode) in cases {
        let mut helper = start_helper(mode);
        let pid = helper.id();
        let wanted = if mode == "pair" { 4 } else { 2 };
        let deadline = Instant::now() + Duration::from_secs(60);
        let tree = loop {
            let tree = descendants(pid);
            let programs = tree.iter().filter(|(_, c)| c.contains("held.py")).count();
            if programs >= wanted {
                break tree;
            }
            assert!(
                Instant::now() < deadline,
                "the helper did not start its runs: {tree:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(
            !temp_roots_of(pid).is_empty(),
            "no temporary root while running"
        );
        assert!(send_signal(pid, signal), "cannot signal the helper");
        let _ = helper.wait();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let left: Vec<&(u32, String)> = tree.iter().filter(|(p, _)| alive(*p)).collect();
            if left.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "signal {signal} ({mode}): processes outlived verity: {left:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // The next start removes the dead process's temporary root.
        let fx = fixture().expect("fixture");
        let config = SandboxConfig {
            read_only_paths: fx.python.read_only_paths.clone(),
            ..SandboxConfig::default()
        };
        drop(Sandbox::new(config, 1).expect("sandbox"));
        assert!(
            temp_roots_of(pid).is_empty(),
            "signal {signal}: temporary root left: {:?}",
            temp_roots_of(pid)
        );
    }
}

/// Signal `pid` (the shell's `kill`: the workspace forbids `unsafe`, so no `libc::kill` here).
fn send_signal(pid: u32, signal: i32) -> bool {
    Command::new("/bin/sh")
        .args(["-c", &format!("kill -{signal} {pid}")])
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn host_command_line_and_environment_are_invisible_and_dev_shm_works() {
    let Some(fx) = fixture() else { return };
    let code = "import os, multiprocessing\n\
                def show(path):\n    try:\n        return open(path, 'rb').read().replace(b'\\0', b' ').decode()\n    except OSError as e:\n        return 'unreadable'\n\
                print('CMD', repr(show('/proc/1/cmdline')))\n\
                print('ENV', repr(show('/proc/1/environ')))\n\
                print('OWN', sorted(os.environ))\n\
                with multiprocessing.Pool(2) as pool:\n    print('POOL', pool.map(abs, [-1, -2, -3]))\n";
    let spec = RunSpec {
        argv: fx.python.argv_for("{code}/main.py"),
        files: vec![SandboxFile::new("main.py", code)],
        env: fx.python.env.clone(),
        limits: Limits {
            wall_timeout: Duration::from_secs(30),
            ..Limits::default()
        },
        ..RunSpec::default()
    };
    let output = fx.sandbox.run(&spec).expect("run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.termination,
        Termination::Exited(0),
        "{stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let host_arg = std::env::args().next().unwrap_or_default();
    assert!(!stdout.contains(&host_arg), "{stdout}");
    assert!(!stdout.contains("CARGO"), "{stdout}");
    assert!(
        stdout.contains("CMD ''") || stdout.contains("CMD 'unreadable'"),
        "{stdout}"
    );
    assert!(stdout.contains("POOL [1, 2, 3]"), "{stdout}");
}

#[test]
fn a_multi_process_memory_hog_is_stopped_by_the_whole_tree_limit() {
    let Some(fx) = fixture() else { return };
    let runner = CodeRunner::new(
        &fx.sandbox,
        fx.python.clone(),
        HarnessOptions {
            per_test_timeout: Duration::from_secs(120),
            ..HarnessOptions::default()
        },
    );
    let suite = TestSuite::Stdio {
        cases: vec![(String::new(), "ok".into())],
    };
    let report = runner
        .run(verity_sandbox::diagnose::MULTI_PROCESS_HOG, &suite)
        .expect("run");
    assert_eq!(report.outcome, Outcome::MemoryLimit, "{report:?}");
    // The figure for the record: the tree's peak when it was stopped.
    let spec = RunSpec {
        argv: fx.python.argv_for("{code}/hog.py"),
        files: vec![SandboxFile::new(
            "hog.py",
            verity_sandbox::diagnose::MULTI_PROCESS_HOG,
        )],
        env: fx.python.env.clone(),
        limits: Limits {
            wall_timeout: Duration::from_secs(120),
            ..Limits::default()
        },
        ..RunSpec::default()
    };
    let output = fx.sandbox.run(&spec).expect("run");
    assert_eq!(output.termination, Termination::MemoryLimit);
    eprintln!(
        "multi-process hog (6 x 1.5 GiB): stopped at a tree peak of {:.2} GiB (limit {:.2} GiB)",
        output.tree_memory_peak as f64 / (1u64 << 30) as f64,
        Limits::default().tree_memory_bytes as f64 / (1u64 << 30) as f64
    );
    assert!(output.tree_memory_peak <= Limits::default().tree_memory_bytes + (1 << 30));
}
