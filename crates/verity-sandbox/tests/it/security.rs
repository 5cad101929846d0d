//! Security: each attack is contained, reported with the right verdict, and the host untouched
//! (asserted on the host side). Every test uses its own sandbox uid so that "no process of that
//! uid is left on the host" can be checked while other tests run in parallel.

use crate::common::fixture;
use std::path::Path;
use std::time::{Duration, Instant};
use verity_sandbox::harness::{CodeRunner, HarnessOptions, Outcome, TestSuite};
use verity_sandbox::{
    Limits, RunOutput, RunSpec, Sandbox, SandboxConfig, SandboxFile, Termination,
};

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

/// A sandbox of its own (uid `id` when started as root), exposing Python.
fn sandbox_with(id: u32, loopback: bool) -> Option<Sandbox> {
    let fx = fixture()?;
    let config = SandboxConfig {
        read_only_paths: fx.python.read_only_paths.clone(),
        sandbox_id: id,
        loopback_network: loopback,
        ..SandboxConfig::default()
    };
    Some(Sandbox::new(config, 1).expect("sandbox"))
}

fn python_run(sandbox: &Sandbox, code: &str, stdin: &str, timeout: Duration) -> RunOutput {
    let fx = fixture().expect("fixture");
    let spec = RunSpec {
        argv: fx.python.argv_for("{code}/main.py"),
        files: vec![SandboxFile::new("main.py", code)],
        stdin: stdin.as_bytes().to_vec(),
        env: fx.python.env.clone(),
        limits: Limits {
            wall_timeout: timeout,
            ..Limits::default()
        },
    };
    sandbox.run(&spec).expect("run starts")
}

/// Pids of host processes whose real, effective or saved uid is `uid`.
fn host_processes_of(uid: u32) -> Vec<u32> {
    let mut pids = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return pids;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let uids: Vec<u32> = status
            .lines()
            .find(|l| l.starts_with("Uid:"))
            .map(|l| {
                l.split_whitespace()
                    .skip(1)
                    .take(3)
                    .filter_map(|v| v.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        let zombie = status
            .lines()
            .any(|l| l.starts_with("State:") && l.contains('Z'));
        if uids.contains(&uid) && !zombie {
            pids.push(pid);
        }
    }
    pids
}

/// Assert that no process of `uid` survives on the host (allowing the kernel a moment to reap).
fn assert_no_survivors(uid: u32) {
    if !running_as_root() {
        eprintln!("note: not root, the host-side process check by uid is skipped");
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = host_processes_of(uid);
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "processes of uid {uid} survived the run: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stdout(output: &RunOutput) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn fork_bomb_is_contained_and_killed() {
    let Some(sandbox) = sandbox_with(62001, false) else {
        return;
    };
    let code =
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n";
    let output = python_run(&sandbox, code, "", Duration::from_secs(3));
    assert_eq!(output.termination, Termination::WallTimeout);
    assert_no_survivors(62001);
}

#[test]
fn infinite_loop_times_out_with_the_tree_killed() {
    let Some(sandbox) = sandbox_with(62002, false) else {
        return;
    };
    let output = python_run(
        &sandbox,
        "while True:\n    pass\n",
        "",
        Duration::from_secs(2),
    );
    assert_eq!(output.termination, Termination::WallTimeout);
    assert!(output.wall < Duration::from_secs(30));
    assert_no_survivors(62002);
    // Through the harness: the verdict is a timeout.
    let fx = fixture().expect("fixture");
    let options = HarnessOptions {
        per_test_timeout: Duration::from_secs(2),
        ..HarnessOptions::default()
    };
    let runner = CodeRunner::new(&sandbox, fx.python.clone(), options);
    let suite = TestSuite::Stdio {
        cases: vec![("".into(), "1".into())],
    };
    let report = runner.run("while True:\n    pass\n", &suite).expect("run");
    assert_eq!(report.outcome, Outcome::Timeout);
}

#[test]
fn memory_hog_hits_the_memory_limit() {
    let Some(sandbox) = sandbox_with(62003, false) else {
        return;
    };
    let fx = fixture().expect("fixture");
    // Generous time: other tests (the fork bomb) may load the machine meanwhile.
    let options = HarnessOptions {
        per_test_timeout: Duration::from_secs(60),
        ..HarnessOptions::default()
    };
    let runner = CodeRunner::new(&sandbox, fx.python.clone(), options);
    let suite = TestSuite::Stdio {
        cases: vec![("".into(), "done".into())],
    };
    for hog in [
        "x = bytearray(10 ** 11)\nprint('done')\n",
        "chunks = []\nwhile True:\n    chunks.append(bytearray(50 * 2 ** 20))\n",
    ] {
        let report = runner.run(hog, &suite).expect("run");
        assert_eq!(report.outcome, Outcome::MemoryLimit, "{hog}: {report:?}");
    }
    assert_no_survivors(62003);
}

#[test]
fn ten_gigabytes_of_output_are_cut_off() {
    let Some(sandbox) = sandbox_with(62004, false) else {
        return;
    };
    let code = "import sys\nblock = 'x' * (1 << 20)\nfor _ in range(10 * 1024):\n    sys.stdout.write(block)\n";
    let output = python_run(&sandbox, code, "", Duration::from_secs(20));
    assert_eq!(output.termination, Termination::OutputLimit);
    assert!(output.stdout.len() <= Limits::default().output_bytes);
    // The same amount written to a file in the scratch dir: stopped by the file-size limit or
    // the scratch size, and nothing lands on the host.
    let code = "import os\nblock = b'x' * (1 << 20)\ntry:\n    with open('/tmp/big', 'wb') as f:\n        for _ in range(10 * 1024):\n            f.write(block)\n    print('wrote all')\nexcept OSError as e:\n    print('stopped', e.errno, os.path.getsize('/tmp/big'))\n";
    let output = python_run(&sandbox, code, "", Duration::from_secs(20));
    let text = stdout(&output);
    assert!(
        text.starts_with("stopped"),
        "{text} {:?}",
        output.termination
    );
    let size: u64 = text
        .split_whitespace()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(u64::MAX);
    assert!(size <= 64 << 20, "file grew to {size}");
    assert!(!Path::new("/tmp/big").exists());
    assert_no_survivors(62004);
}

#[test]
fn writing_outside_scratch_fails_and_host_is_untouched() {
    let Some(sandbox) = sandbox_with(62005, false) else {
        return;
    };
    let targets = [
        "/code/escape",
        "/usr/verity_escape_test",
        "/etc/verity_escape_test",
        "/verity_escape_test",
        "/root/verity_escape_test",
        "/dev/verity_escape_test",
        "/proc/verity_escape_test",
    ];
    let mut code = String::from("import os\nresults = []\n");
    for target in targets {
        code.push_str(&format!(
            "try:\n    open({target:?}, 'w').write('x')\n    results.append('WROTE {target}')\nexcept OSError as e:\n    results.append('denied')\n"
        ));
    }
    code.push_str("open('/tmp/ok', 'w').write('fine')\nprint(' '.join(results))\nprint(open('/tmp/ok').read())\n");
    let output = python_run(&sandbox, &code, "", Duration::from_secs(10));
    assert_eq!(
        output.termination,
        Termination::Exited(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = stdout(&output);
    assert!(!text.contains("WROTE"), "{text}");
    assert!(
        text.contains("fine"),
        "scratch dir must be writable: {text}"
    );
    for target in &targets[1..] {
        assert!(!Path::new(target).exists(), "{target} appeared on the host");
    }
    assert!(
        !Path::new("/tmp/ok").exists(),
        "the scratch dir must not be the host /tmp"
    );
    assert_no_survivors(62005);
}

#[test]
fn secrets_of_the_host_are_unreadable() {
    let Some(sandbox) = sandbox_with(62006, false) else {
        return;
    };
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let probe_file = Path::new(&home).join(".verity_sandbox_secret_probe");
    let wrote_probe = std::fs::write(&probe_file, "TOPSECRET").is_ok();
    let code = format!(
        "import os\nfor path in ['/etc/shadow', '/etc/passwd', {probe:?}, {home:?}, '/proc/1/root/etc/shadow', '/proc/self/root/../../etc/shadow']:\n    try:\n        if os.path.isdir(path):\n            print('LISTED', path, os.listdir(path))\n        else:\n            print('READ', path, open(path).read()[:40])\n    except OSError as e:\n        print('denied', path, type(e).__name__)\n",
        probe = probe_file.to_string_lossy(),
        home = home,
    );
    let output = python_run(&sandbox, &code, "", Duration::from_secs(10));
    if wrote_probe {
        let _ = std::fs::remove_file(&probe_file);
    }
    let text = stdout(&output);
    assert!(!text.contains("TOPSECRET"), "{text}");
    assert!(!text.contains("READ /etc/shadow"), "{text}");
    assert!(!text.contains("root:"), "{text}");
    if let Ok(shadow) = std::fs::read_to_string("/etc/shadow") {
        let first = shadow.lines().next().unwrap_or("");
        assert!(
            first.is_empty() || !text.contains(first),
            "host /etc/shadow leaked"
        );
    }
    assert!(
        text.lines().filter(|l| l.starts_with("denied")).count() >= 5,
        "{text}"
    );
}

#[test]
fn network_sockets_are_a_sandbox_violation() {
    let Some(sandbox) = sandbox_with(62007, false) else {
        return;
    };
    let fx = fixture().expect("fixture");
    let runner = CodeRunner::new(&sandbox, fx.python.clone(), HarnessOptions::default());
    let suite = TestSuite::Stdio {
        cases: vec![("".into(), "connected".into())],
    };
    for target in ["('1.1.1.1', 80)", "('127.0.0.1', 22)"] {
        let code = format!(
            "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\ns.settimeout(2)\ns.connect({target})\nprint('connected')\n"
        );
        let report = runner.run(&code, &suite).expect("run");
        assert_eq!(
            report.outcome,
            Outcome::SandboxViolation,
            "{target}: {report:?}"
        );
    }
    // AF_UNIX stays allowed (multiprocessing, asyncio need it).
    let output = python_run(
        &sandbox,
        "import socket\na, b = socket.socketpair()\na.send(b'hi')\nprint(b.recv(2).decode())\n",
        "",
        Duration::from_secs(10),
    );
    assert_eq!(stdout(&output).trim(), "hi");
}

#[test]
fn loopback_option_reaches_only_the_sandbox_itself() {
    let Some(sandbox) = sandbox_with(62008, true) else {
        return;
    };
    // A listener on the host's loopback must stay unreachable from the sandbox.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("host listener");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    let code = r#"import socket, threading
srv = socket.socket()
srv.bind(('127.0.0.1', 0))
srv.listen(1)
port = srv.getsockname()[1]
def serve():
    c, _ = srv.accept()
    c.send(b'pong')
    c.close()
threading.Thread(target=serve).start()
cli = socket.create_connection(('127.0.0.1', port), timeout=5)
print('inner', cli.recv(4).decode())
for target in [('127.0.0.1', HOST_PORT), ('1.1.1.1', 80)]:
    try:
        socket.create_connection(target, timeout=2)
        print('REACHED', target)
    except OSError as e:
        print('unreachable', target[0])
"#
    .replace("HOST_PORT", &port.to_string());
    let output = python_run(&sandbox, &code, "", Duration::from_secs(20));
    let text = stdout(&output);
    assert!(
        text.contains("inner pong"),
        "{text} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!text.contains("REACHED"), "{text}");
    assert_eq!(text.matches("unreachable").count(), 2, "{text}");
    assert!(
        listener.accept().is_err(),
        "the host listener got a connection"
    );
    assert_no_survivors(62008);
}

#[test]
fn killing_the_parent_or_host_processes_is_impossible() {
    let Some(sandbox) = sandbox_with(62009, false) else {
        return;
    };
    let mut canary = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .expect("canary");
    let code = r#"import os, signal, sys
print('ppid', os.getppid(), flush=True)
for line in sys.stdin:
    pid = int(line)
    try:
        os.kill(pid, signal.SIGKILL)
        print('signalled', pid, flush=True)
    except OSError as e:
        print('denied', pid, e.errno, flush=True)
try:
    os.kill(-1, signal.SIGKILL)
    print('kill -1 returned', flush=True)
except OSError as e:
    print('kill -1 denied', e.errno, flush=True)
print('still running', flush=True)
"#;
    // The program's parent is the sandbox's own init (pid 1 of the namespace): killing it is
    // refused or ignored, and would only end the sandbox. Host pids are not even visible.
    let stdin = format!("1\n{}\n{}\n", canary.id(), std::process::id());
    let output = python_run(&sandbox, code, &stdin, Duration::from_secs(10));
    let text = stdout(&output);
    assert!(
        text.contains("ppid 1"),
        "the parent must be the sandbox's init: {text}"
    );
    assert!(text.contains("still running"), "{text}");
    assert!(
        text.contains(&format!("denied {} 3", canary.id())),
        "{text}"
    );
    assert!(
        text.contains(&format!("denied {} 3", std::process::id())),
        "{text}"
    );
    // Host side: the canary and this test process are alive.
    assert!(
        canary.try_wait().expect("try_wait").is_none(),
        "canary was killed"
    );
    let _ = canary.kill();
    let _ = canary.wait();
    assert_no_survivors(62009);
}

#[test]
fn background_processes_do_not_outlive_the_run() {
    let Some(sandbox) = sandbox_with(62010, false) else {
        return;
    };
    let code = r#"import subprocess, os
p = subprocess.Popen(['/bin/sh', '-c', 'sleep 300'], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        import time
        time.sleep(300)
    os._exit(0)
print('spawned', p.pid)
"#;
    let started = Instant::now();
    let output = python_run(&sandbox, code, "", Duration::from_secs(20));
    assert_eq!(
        output.termination,
        Termination::Exited(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout(&output).starts_with("spawned"));
    // The run returns when pid 1 exits, without waiting for the sleepers.
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_no_survivors(62010);
}

#[test]
fn setsid_escape_is_contained() {
    let Some(sandbox) = sandbox_with(62011, false) else {
        return;
    };
    let code = "import os, time\nos.setsid()\npid = os.fork()\nif pid == 0:\n    os.setsid()\n    while True:\n        time.sleep(1)\nprint('leader', os.getpid(), 'child', pid)\n";
    let output = python_run(&sandbox, code, "", Duration::from_secs(10));
    assert_eq!(
        output.termination,
        Termination::Exited(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout(&output).starts_with("leader 2 "),
        "{}",
        stdout(&output)
    );
    assert_no_survivors(62011);
}

#[test]
fn symlink_tricks_stay_inside() {
    let Some(sandbox) = sandbox_with(62012, false) else {
        return;
    };
    let code = r#"import os
os.symlink('/etc/shadow', '/tmp/shadow')
os.symlink('/', '/tmp/root')
os.symlink('/proc/1/root', '/tmp/pidroot')
for path in ['/tmp/shadow', '/tmp/root/root', '/tmp/pidroot/etc/shadow', '/tmp/root/../../../etc/shadow']:
    try:
        if os.path.isdir(path):
            print('LISTED', path, sorted(os.listdir(path)))
        else:
            print('READ', path, open(path).read()[:20])
    except OSError as e:
        print('denied', path, type(e).__name__)
try:
    os.symlink('/tmp', '/code/link')
    print('LINKED in /code')
except OSError:
    print('denied link')
"#;
    let output = python_run(&sandbox, code, "", Duration::from_secs(10));
    let text = stdout(&output);
    assert!(!text.contains("READ"), "{text}");
    assert!(!text.contains("LINKED"), "{text}");
    // The sandbox's /root exists only as a mount-point path (empty or the interpreter prefix).
    assert!(!Path::new("/tmp/shadow").exists() && !Path::new("/tmp/pidroot").exists());
    assert_no_survivors(62012);
}

#[test]
fn dangerous_syscalls_are_killed_and_privileges_are_gone() {
    let Some(sandbox) = sandbox_with(62013, false) else {
        return;
    };
    let status = python_run(
        &sandbox,
        "status = open('/proc/self/status').read()\nfor line in status.splitlines():\n    if line.split(':')[0] in ('Uid', 'CapEff', 'CapPrm', 'CapBnd', 'NoNewPrivs', 'Seccomp'):\n        print(line.replace('\\t', ' '))\n",
        "",
        Duration::from_secs(10),
    );
    let text = stdout(&status);
    assert!(text.contains("CapEff: 0000000000000000"), "{text}");
    assert!(text.contains("CapPrm: 0000000000000000"), "{text}");
    assert!(text.contains("CapBnd: 0000000000000000"), "{text}");
    assert!(text.contains("NoNewPrivs: 1"), "{text}");
    assert!(text.contains("Seccomp: 2"), "{text}");
    assert!(text.contains("Uid: 62013 62013 62013"), "{text}");
    for attack in [
        "import ctypes\nlibc = ctypes.CDLL(None)\nlibc.unshare(0x10000000)\n",
        "import ctypes\nlibc = ctypes.CDLL(None)\nlibc.ptrace(0, 0, 0, 0)\n",
        "import ctypes\nlibc = ctypes.CDLL(None)\nlibc.mount(b'none', b'/tmp', b'tmpfs', 0, None)\n",
        "import ctypes\nlibc = ctypes.CDLL(None)\nlibc.syscall(321, 0, 0, 0)\n",
    ] {
        let output = python_run(&sandbox, attack, "", Duration::from_secs(10));
        assert!(output.sandbox_violation(), "{attack}: {:?} {}", output.termination, String::from_utf8_lossy(&output.stderr));
    }
    assert_no_survivors(62013);
}

#[test]
fn self_check_reports_every_property_holding() {
    if fixture().is_none() {
        return;
    }
    let diagnosis =
        verity_sandbox::diagnose::diagnose("python3", verity_sandbox::Isolation::Namespaces);
    assert!(diagnosis.available, "{diagnosis:?}");
    assert!(diagnosis.checks.len() >= 12, "{diagnosis:?}");
    for check in &diagnosis.checks {
        assert!(check.ok, "{}: {}", check.name, check.evidence);
    }
}

#[test]
fn cpu_limit_is_reported_as_a_timeout() {
    let Some(sandbox) = sandbox_with(62014, false) else {
        return;
    };
    let fx = fixture().expect("fixture");
    // Two busy threads burn CPU time twice as fast as wall time: the CPU limit (1 s) fires
    // before the wall-clock limit (30 s).
    let spec = RunSpec {
        argv: fx.python.argv_for("{code}/main.py"),
        files: vec![SandboxFile::new(
            "main.py",
            "import multiprocessing as mp\ndef burn():\n    while True:\n        pass\nif __name__ == '__main__':\n    procs = [mp.Process(target=burn) for _ in range(2)]\n    [p.start() for p in procs]\n    burn()\n",
        )],
        env: fx.python.env.clone(),
        limits: Limits {
            wall_timeout: Duration::from_secs(30),
            cpu_seconds: Some(1),
            ..Limits::default()
        },
        ..RunSpec::default()
    };
    let output = sandbox.run(&spec).expect("run");
    assert!(
        output.cpu_limit(),
        "{:?} {}",
        output.termination,
        String::from_utf8_lossy(&output.stderr)
    );
    assert_no_survivors(62014);
}
