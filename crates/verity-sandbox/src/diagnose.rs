//! A self-check of the sandbox on this machine (`verity sandbox-check`).
//!
//! What it does: builds a sandbox exactly as the `code` verifier does, then runs probes inside
//! it and reports each property with the evidence: the process is not root and holds no
//! capability, `no_new_privs` and seccomp are on, only `lo` exists in the network namespace,
//! the root is read-only and `/tmp` writable, the host's `/etc/shadow` and home are not
//! visible, an `AF_INET` socket is killed, a fork bomb and a memory hog are contained.
//!
//! Why: the isolation depends on the kernel and its configuration (user namespaces, seccomp);
//! this answers "is it really isolated here?" in one command, before verifying millions of
//! rollouts.

use crate::harness::{CodeRunner, HarnessOptions, Outcome, TestSuite};
use crate::language::Language;
use crate::sandbox::{Isolation, Limits, RunSpec, Sandbox, SandboxConfig, SandboxFile};
use serde::Serialize;
use std::time::Duration;

/// One checked property.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What was checked.
    pub name: String,
    /// Whether it holds.
    pub ok: bool,
    /// Evidence.
    pub evidence: String,
}

/// The result of [`diagnose`].
#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    /// Whether the sandbox could be created at all.
    pub available: bool,
    /// Why not, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The Python interpreter found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub python: Option<String>,
    /// The checks.
    pub checks: Vec<Check>,
    /// How memory and processes of a whole run are bounded here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<crate::sandbox::limits_mode::LimitsMode>,
    /// The languages of the `code` verifier and whether this machine has them.
    pub languages: Vec<Check>,
}

impl Diagnosis {
    /// Available and every check holds.
    pub fn all_ok(&self) -> bool {
        self.available && self.checks.iter().all(|c| c.ok)
    }
}

/// Six processes touching 1.5 GiB each: 9 GiB in all, six times the per-process limit would
/// allow with 2 GiB each; the whole-tree limit (2 GiB) must stop it.
pub const MULTI_PROCESS_HOG: &str = "import os, time\n\
for _ in range(5):\n    if os.fork() == 0:\n        break\n\
block = bytearray(1536 << 20)\n\
for i in range(0, len(block), 4096):\n    block[i] = 1\n\
time.sleep(10)\n";

const PROBE: &str = r#"
import json, os
result = {}
status = {}
for line in open('/proc/self/status'):
    key, _, value = line.partition(':')
    status[key] = value.split()
result['uid'] = status.get('Uid', [])
result['cap_eff'] = status.get('CapEff', [''])[0]
result['cap_bnd'] = status.get('CapBnd', [''])[0]
result['no_new_privs'] = status.get('NoNewPrivs', [''])[0]
result['seccomp'] = status.get('Seccomp', [''])[0]
result['interfaces'] = sorted(l.split(':')[0].strip() for l in open('/proc/net/dev').readlines()[2:])
def can_write(path):
    try:
        with open(path, 'w') as f:
            f.write('x')
        return True
    except OSError:
        return False
result['root_writable'] = can_write('/verity_probe')
result['usr_writable'] = can_write('/usr/verity_probe')
result['tmp_writable'] = can_write('/tmp/verity_probe')
result['shadow_visible'] = os.path.exists('/etc/shadow')
result['root_home'] = sorted(os.listdir('/root')) if os.path.isdir('/root') else None
result['pid'] = os.getpid()
result['ppid'] = os.getppid()
def read(path):
    try:
        with open(path, 'rb') as f:
            return f.read().decode('utf-8', 'replace')
    except OSError as error:
        return 'unreadable: %s' % error.strerror
result['init_cmdline'] = read('/proc/1/cmdline')
result['init_environ'] = read('/proc/1/environ')
result['own_environ'] = sorted(os.environ)
result['shm'] = os.path.isdir('/dev/shm') and os.access('/dev/shm', os.W_OK)
print(json.dumps(result))
"#;

/// Check the sandbox on this machine with the given Python (`python3`).
pub fn diagnose(python: &str, isolation: Isolation) -> Diagnosis {
    let language = match Language::python(python) {
        Ok(language) => language,
        Err(error) => {
            return Diagnosis {
                available: false,
                error: Some(error.to_string()),
                python: None,
                checks: Vec::new(),
                limits: None,
                languages: Vec::new(),
            }
        }
    };
    let config = SandboxConfig {
        isolation,
        read_only_paths: language.read_only_paths.clone(),
        ..SandboxConfig::default()
    };
    let sandbox = match Sandbox::new(config, 1) {
        Ok(sandbox) => sandbox,
        Err(error) => {
            return Diagnosis {
                available: false,
                error: Some(error.to_string()),
                python: Some(language.interpreter().to_string()),
                checks: Vec::new(),
                limits: None,
                languages: Vec::new(),
            }
        }
    };
    let mut checks = Vec::new();
    let mut check = |name: &str, ok: bool, evidence: String| {
        checks.push(Check {
            name: name.to_string(),
            ok,
            evidence,
        })
    };
    let spec = RunSpec {
        argv: language.argv_for("{code}/probe.py"),
        files: vec![SandboxFile::new("probe.py", PROBE)],
        env: language.env.clone(),
        limits: Limits {
            wall_timeout: Duration::from_secs(20),
            ..Limits::default()
        },
        ..RunSpec::default()
    };
    match sandbox.run(&spec) {
        Ok(output) if output.success() => {
            let text = String::from_utf8_lossy(&output.stdout);
            let probe: serde_json::Value = serde_json::from_str(text.trim()).unwrap_or_default();
            let uid = probe["uid"].to_string();
            check(
                "not root inside",
                probe["uid"]
                    .as_array()
                    .is_some_and(|u| !u.is_empty() && u.iter().all(|v| v != "0")),
                format!("uid (real, effective, saved, fs) = {uid}"),
            );
            let caps_zero = |key: &str| {
                probe[key]
                    .as_str()
                    .is_some_and(|c| c.chars().all(|ch| ch == '0') && !c.is_empty())
            };
            check(
                "no capabilities",
                caps_zero("cap_eff") && caps_zero("cap_bnd"),
                format!("CapEff={} CapBnd={}", probe["cap_eff"], probe["cap_bnd"]),
            );
            check(
                "no_new_privs",
                probe["no_new_privs"] == "1",
                format!("NoNewPrivs={}", probe["no_new_privs"]),
            );
            check(
                "seccomp filter",
                probe["seccomp"] == "2",
                format!("Seccomp={} (2 = filter)", probe["seccomp"]),
            );
            check(
                "no network interfaces but lo",
                probe["interfaces"]
                    .as_array()
                    .is_some_and(|i| i.iter().all(|n| n == "lo")),
                format!("interfaces = {}", probe["interfaces"]),
            );
            check(
                "read-only root and /usr",
                probe["root_writable"] == false && probe["usr_writable"] == false,
                format!(
                    "/ writable: {}, /usr writable: {}",
                    probe["root_writable"], probe["usr_writable"]
                ),
            );
            check(
                "writable scratch /tmp",
                probe["tmp_writable"] == true,
                format!("/tmp writable: {}", probe["tmp_writable"]),
            );
            check(
                "host /etc/shadow hidden",
                probe["shadow_visible"] == false,
                format!("/etc/shadow visible: {}", probe["shadow_visible"]),
            );
            let hidden = |key: &str| {
                probe[key]
                    .as_str()
                    .is_some_and(|t| t.trim_matches('\0').is_empty() || t.starts_with("unreadable"))
            };
            check(
                "host command line hidden",
                hidden("init_cmdline") && hidden("init_environ"),
                format!(
                    "/proc/1/cmdline = {}, /proc/1/environ = {}",
                    probe["init_cmdline"], probe["init_environ"]
                ),
            );
            check(
                "writable /dev/shm",
                probe["shm"] == true,
                format!("/dev/shm writable: {}", probe["shm"]),
            );
            check(
                "own pid namespace",
                probe["pid"] == 2 && probe["ppid"] == 1,
                format!(
                    "pid of the program = {}, its parent = {} (the sandbox's init)",
                    probe["pid"], probe["ppid"]
                ),
            );
        }
        Ok(output) => check(
            "probe runs",
            false,
            format!(
                "{:?}: {}",
                output.termination,
                String::from_utf8_lossy(&output.stderr)
            ),
        ),
        Err(error) => check("probe runs", false, error.to_string()),
    }
    let runner = CodeRunner::new(
        &sandbox,
        language.clone(),
        HarnessOptions {
            per_test_timeout: Duration::from_secs(3),
            ..HarnessOptions::default()
        },
    );
    let stdio = |cases: Vec<(String, String)>| TestSuite::Stdio { cases };
    let attacks = [
        ("network socket killed", "import socket\nsocket.socket(socket.AF_INET).connect(('1.1.1.1', 80))\n", Outcome::SandboxViolation),
        ("fork bomb contained", "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n", Outcome::Timeout),
        ("memory hog stopped", "x = bytearray(1 << 40)\n", Outcome::MemoryLimit),
    ];
    for (name, code, expected) in attacks {
        match runner.run(code, &stdio(vec![(String::new(), "ok".into())])) {
            Ok(report) => check(
                name,
                report.outcome == expected,
                format!("verdict: {}", report.outcome.as_str()),
            ),
            Err(error) => check(name, false, error.to_string()),
        }
    }
    // The multi-process hog needs time to touch its pages on a loaded machine.
    let patient = CodeRunner::new(
        &sandbox,
        language.clone(),
        HarnessOptions {
            per_test_timeout: Duration::from_secs(30),
            ..HarnessOptions::default()
        },
    );
    match patient.run(
        MULTI_PROCESS_HOG,
        &stdio(vec![(String::new(), "ok".into())]),
    ) {
        Ok(report) => check(
            "multi-process memory hog stopped",
            report.outcome == Outcome::MemoryLimit,
            format!(
                "6 processes x 1.5 GiB under a 2 GiB limit for the whole run: verdict {}",
                report.outcome.as_str()
            ),
        ),
        Err(error) => check("multi-process memory hog stopped", false, error.to_string()),
    }
    let languages = crate::code_verifier::LANGUAGES
        .iter()
        .map(|name| match crate::toolchains::discover(name) {
            Ok(found) => Check {
                name: name.to_string(),
                ok: true,
                evidence: found
                    .compile
                    .as_ref()
                    .map_or_else(|| found.interpreter().to_string(), |c| c.script.clone()),
            },
            Err(error) => Check {
                name: name.to_string(),
                ok: false,
                evidence: error.to_string(),
            },
        })
        .collect();
    Diagnosis {
        available: true,
        error: None,
        python: Some(language.interpreter().to_string()),
        checks,
        limits: Some(crate::sandbox::limits_mode::detect()),
        languages,
    }
}
