//! The sandbox: run one untrusted program with no network, no view of the host, and bounded
//! time, memory, processes and output.
//!
//! What it does: [`Sandbox::run`] starts `argv` in fresh user, pid, mount, network, ipc, uts and
//! cgroup namespaces (see `child.rs` for the exact sequence), with the run's files in a read-only
//! `/code`, a size-limited tmpfs `/tmp` as the only writable place (also the working directory),
//! read-only views of `/usr`, the interpreter and the paths the caller allows, rlimits (CPU,
//! address space, file size, open files, processes), a seccomp filter, a wall-clock timeout that
//! kills the whole process tree, and a cap on captured output. Started as root, the program runs
//! as an unprivileged uid (65534 by default) on the host, with no capabilities and
//! `no_new_privs`.
//!
//! Why no external binary: bubblewrap/nsjail would need to be installed on every machine (and in
//! CI); the whole setup is ~40 system calls, done directly.
//!
//! Known failure modes:
//! - Machines without unprivileged user namespaces (some hardened kernels, AppArmor's
//!   `apparmor_restrict_unprivileged_userns`, containers without `CLONE_NEWUSER`):
//!   [`Sandbox::new`] fails with [`SandboxError::Unavailable`] naming the step that failed. The
//!   caller may then opt out explicitly with [`Isolation::None`] (rlimits, own session and
//!   timeout only: *no* isolation).
//! - Memory is bounded by `RLIMIT_AS` (virtual memory), not by a cgroup: a program that maps a
//!   lot without touching it is stopped early, and tmpfs pages of `/tmp` are bounded by the
//!   scratch size instead.
//! - `RLIMIT_CPU` and the wall timeout are checked to the second and to ~10 ms respectively.

pub(crate) mod child;
pub mod limits_mode;
pub(crate) mod plan;
pub mod seccomp;
pub(crate) mod sys;
mod tree_memory;

use child::{
    ChildFile, ChildLimits, IsolatedChild, UnisolatedChild, STEP_NAMES, TAG_FAILED, TAG_PID,
    TAG_STATUS,
};
use plan::MountPlan;
use std::ffi::CString;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Errors that prevent a run from starting (never a verdict about the program).
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The machine cannot provide the isolation.
    #[error(
        "the sandbox is unavailable on this machine: step `{step}` failed: {source}\n\
         hint: enable unprivileged user namespaces (sysctl user.max_user_namespaces > 0, \
         kernel.unprivileged_userns_clone=1, kernel.apparmor_restrict_unprivileged_userns=0), \
         or opt out explicitly with `--unsafe-no-sandbox` (programs then run WITHOUT isolation)"
    )]
    Unavailable {
        /// The setup step that failed.
        step: &'static str,
        /// The system error.
        #[source]
        source: io::Error,
    },
    /// A setup step failed for one run (the machine supports the sandbox in general).
    #[error("sandbox setup failed at step `{step}`: {source}")]
    Setup {
        /// The setup step that failed.
        step: &'static str,
        /// The system error.
        #[source]
        source: io::Error,
    },
    /// A path given to the sandbox is unusable.
    #[error("unusable path `{path}`: {reason}")]
    BadPath {
        /// The path.
        path: PathBuf,
        /// Why.
        reason: &'static str,
    },
    /// A file name for `/code` is unusable.
    #[error("unusable file name `{name}` for /code: {reason}")]
    BadFileName {
        /// The name.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// An I/O error on the host side.
    #[error("{what}: `{path}`")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// Starting or supervising the process failed.
    #[error("cannot {what}")]
    Process {
        /// What was being done.
        what: &'static str,
        /// The error.
        #[source]
        source: io::Error,
    },
}

/// How much isolation runs get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Isolation {
    /// Namespaces, new root, seccomp, rlimits (the default).
    #[default]
    Namespaces,
    /// No isolation at all: rlimits, an own session and the timeout only. Only for machines that
    /// cannot provide namespaces, and only when the user asks for it explicitly.
    None,
}

/// Machine-level configuration of a sandbox (fixed for its lifetime).
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Isolation level.
    pub isolation: Isolation,
    /// Extra host paths visible read-only at the same path (interpreter prefix, data a checker
    /// needs). Directories are visible recursively.
    pub read_only_paths: Vec<PathBuf>,
    /// Bring up the loopback interface inside the (still empty) network namespace and allow
    /// `AF_INET`/`AF_INET6` sockets. The host network stays unreachable.
    pub loopback_network: bool,
    /// uid and gid the program runs as, inside and (when started as root) outside.
    pub sandbox_id: u32,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            isolation: Isolation::Namespaces,
            read_only_paths: Vec::new(),
            loopback_network: false,
            sandbox_id: 65534,
        }
    }
}

/// Per-run resource limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Wall-clock time after which the whole process tree is killed.
    pub wall_timeout: Duration,
    /// CPU seconds (`RLIMIT_CPU`); `None` = wall timeout rounded up, plus one.
    pub cpu_seconds: Option<u64>,
    /// Virtual memory (`RLIMIT_AS`), bytes.
    pub address_space_bytes: u64,
    /// Largest file the program may write (`RLIMIT_FSIZE`), bytes.
    pub file_size_bytes: u64,
    /// Open descriptors (`RLIMIT_NOFILE`).
    pub open_files: u64,
    /// Processes and threads in the sandbox (`RLIMIT_NPROC`, counted per user namespace).
    pub processes: u64,
    /// Captured stdout + stderr, bytes; past it the run is killed ([`Termination::OutputLimit`]).
    pub output_bytes: usize,
    /// Size of the writable `/tmp`, bytes.
    pub scratch_bytes: u64,
    /// Size of `/dev/shm` (POSIX shared memory, `multiprocessing`), bytes.
    pub shm_bytes: u64,
    /// Resident memory of the whole process tree of a run (all its processes together), bytes;
    /// past it the tree is killed ([`Termination::MemoryLimit`]).
    pub tree_memory_bytes: u64,
    /// `AF_INET`/`AF_INET6` sockets fail with `EACCES` instead of killing the program (for
    /// runtimes that probe the network at start-up, such as the JVM). The network namespace is
    /// empty either way.
    pub inet_sockets_fail: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            wall_timeout: Duration::from_secs(10),
            cpu_seconds: None,
            address_space_bytes: 2 << 30,
            file_size_bytes: 16 << 20,
            open_files: 256,
            processes: 64,
            output_bytes: 8 << 20,
            scratch_bytes: 64 << 20,
            shm_bytes: 64 << 20,
            tree_memory_bytes: 2 << 30,
            inet_sockets_fail: false,
        }
    }
}

/// A file placed in the read-only `/code` directory of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxFile {
    /// File name (no `/`).
    pub name: String,
    /// Contents.
    pub contents: Vec<u8>,
    /// Mode 0755 (a compiled program) rather than 0644.
    pub executable: bool,
}

impl SandboxFile {
    /// A file with a name and contents.
    pub fn new(name: impl Into<String>, contents: impl Into<Vec<u8>>) -> Self {
        SandboxFile {
            name: name.into(),
            contents: contents.into(),
            executable: false,
        }
    }
}

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct RunSpec {
    /// Program and arguments. `argv[0]` must be an absolute path visible in the sandbox. The
    /// text `{code}` in any argument is replaced by the directory holding [`RunSpec::files`]
    /// (`/code` when isolated).
    pub argv: Vec<String>,
    /// Files for `/code`.
    pub files: Vec<SandboxFile>,
    /// Bytes written to the program's stdin (then closed).
    pub stdin: Vec<u8>,
    /// Environment (nothing is inherited). `PATH`, `HOME`, `TMPDIR` and `LANG` get defaults.
    pub env: Vec<(String, String)>,
    /// Limits.
    pub limits: Limits,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    /// The program exited with this code.
    Exited(i32),
    /// The program was killed by this signal (`SIGSYS` = blocked system call, `SIGXCPU` or
    /// `SIGKILL` after `SIGXCPU` = CPU limit).
    Signaled(i32),
    /// The wall-clock timeout expired; the process tree was killed.
    WallTimeout,
    /// The output cap was exceeded; the process tree was killed.
    OutputLimit,
    /// The resident memory of the whole process tree passed
    /// [`Limits::tree_memory_bytes`]; the tree was killed.
    MemoryLimit,
    /// Stopped by verity because the run was no longer needed (the candidate of a
    /// [`Sandbox::run_pair`] still running after its judge finished).
    Cancelled,
}

/// The result of one run.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// How it ended.
    pub termination: Termination,
    /// Captured stdout (at most the output cap).
    pub stdout: Vec<u8>,
    /// Captured stderr (at most the output cap).
    pub stderr: Vec<u8>,
    /// Wall-clock time from spawn to exit.
    pub wall: Duration,
    /// Whether the run was isolated ([`Isolation::Namespaces`]).
    pub isolated: bool,
    /// Largest resident memory of the whole process tree seen while the run lasted, bytes
    /// (sampled every 50 ms after the first 50 ms; 0 for shorter or unisolated runs).
    pub tree_memory_peak: u64,
}

impl RunOutput {
    /// Exited with code 0.
    pub fn success(&self) -> bool {
        self.termination == Termination::Exited(0)
    }

    /// Killed by the seccomp filter.
    pub fn sandbox_violation(&self) -> bool {
        self.termination == Termination::Signaled(libc::SIGSYS)
    }

    /// Stopped by the CPU-time limit.
    pub fn cpu_limit(&self) -> bool {
        self.termination == Termination::Signaled(libc::SIGXCPU)
    }
}

/// A configured sandbox. Cheap to share between threads (`&Sandbox` is `Sync`); every
/// [`Sandbox::run`] is independent. A counting gate bounds how many runs proceed at once.
pub struct Sandbox {
    config: SandboxConfig,
    /// Empty host directory the root tmpfs is mounted on (inside the sandbox only); held so it
    /// is removed when the sandbox is dropped.
    _root_dir: Option<TempDir>,
    plan: Option<Arc<MountPlan>>,
    seccomp: Arc<Vec<libc::sock_filter>>,
    /// The filter with failing (not killing) inet sockets.
    seccomp_inet_fails: Arc<Vec<libc::sock_filter>>,
    drop_to: Option<(libc::uid_t, libc::gid_t)>,
    uid_map: Vec<u8>,
    gid_map: Vec<u8>,
    gate: Gate,
    /// verity's argv and environment areas, wiped in every namespace's init.
    own_areas: [(usize, usize); 2],
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("config", &self.config)
            .field("isolated", &self.plan.is_some())
            .finish()
    }
}

/// A counting semaphore.
struct Gate {
    slots: Mutex<usize>,
    freed: Condvar,
}

impl Gate {
    fn new(slots: usize) -> Gate {
        Gate {
            slots: Mutex::new(slots.max(1)),
            freed: Condvar::new(),
        }
    }

    fn enter(&self) -> GateTicket<'_> {
        let mut slots = self
            .slots
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        while *slots == 0 {
            slots = self
                .freed
                .wait(slots)
                .unwrap_or_else(|poison| poison.into_inner());
        }
        *slots -= 1;
        GateTicket { gate: self }
    }
}

struct GateTicket<'a> {
    gate: &'a Gate,
}

impl Drop for GateTicket<'_> {
    fn drop(&mut self) {
        let mut slots = self
            .gate
            .slots
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        *slots += 1;
        self.gate.freed.notify_one();
    }
}

/// Default number of concurrent runs: the number of CPUs.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Sandbox {
    /// Prepare a sandbox and check, with one trivial run, that this machine can provide it.
    ///
    /// `workers` bounds the number of concurrent runs through this sandbox (callers may use more
    /// threads; the extra ones wait).
    pub fn new(config: SandboxConfig, workers: usize) -> Result<Sandbox, SandboxError> {
        let (euid, egid) = sys::effective_ids();
        let id = config.sandbox_id;
        // Started as root: the root is built with real privileges, then the process drops to
        // `id` and maps it to itself in a new user namespace. Otherwise the user namespace maps
        // the caller's ids to `id`.
        let (drop_to, outside_uid, outside_gid) = if euid == 0 {
            (Some((id, id)), id, id)
        } else {
            (None, euid, egid)
        };
        remove_stale_temp_dirs();
        let (plan, root_dir) = match config.isolation {
            Isolation::Namespaces => {
                let root_dir = TempDir::new("verity-sandbox-root")?;
                let _ = std::fs::set_permissions(
                    &root_dir.path,
                    std::os::unix::fs::PermissionsExt::from_mode(0o755),
                );
                let plan = MountPlan::new(&root_dir.path, &config.read_only_paths)?;
                (Some(Arc::new(plan)), Some(root_dir))
            }
            Isolation::None => (None, None),
        };
        let sandbox = Sandbox {
            seccomp: Arc::new(seccomp::build_filter(config.loopback_network, false)),
            seccomp_inet_fails: Arc::new(seccomp::build_filter(config.loopback_network, true)),
            plan,
            drop_to,
            uid_map: format!("{id} {outside_uid} 1\n").into_bytes(),
            gid_map: format!("{id} {outside_gid} 1\n").into_bytes(),
            gate: Gate::new(workers),
            own_areas: own_argv_and_environment(),
            _root_dir: root_dir,
            config,
        };
        if sandbox.plan.is_some() {
            sandbox.probe()?;
        }
        Ok(sandbox)
    }

    /// The configuration.
    pub fn config(&self) -> &SandboxConfig {
        &self.config
    }

    /// Whether runs are isolated.
    pub fn is_isolated(&self) -> bool {
        self.plan.is_some()
    }

    fn probe(&self) -> Result<(), SandboxError> {
        let spec = RunSpec {
            argv: vec!["/bin/sh".into(), "-c".into(), "exit 0".into()],
            limits: Limits {
                wall_timeout: Duration::from_secs(20),
                ..Limits::default()
            },
            ..RunSpec::default()
        };
        let shell = Path::new("/bin/sh");
        if !shell.exists() {
            // Nothing to probe with; the first real run reports any problem.
            return Ok(());
        }
        match self.run(&spec) {
            Ok(output) if output.success() => Ok(()),
            Ok(output) => Err(SandboxError::Unavailable {
                step: "probe run",
                source: io::Error::other(format!(
                    "`/bin/sh -c 'exit 0'` ended with {:?}; stderr: {}",
                    output.termination,
                    String::from_utf8_lossy(&output.stderr)
                )),
            }),
            Err(SandboxError::Setup { step, source }) => {
                Err(SandboxError::Unavailable { step, source })
            }
            Err(other) => Err(other),
        }
    }

    /// Run one program. Errors mean the run could not start; everything the program does
    /// (crash, timeout, blocked system call) is in the returned [`RunOutput`].
    pub fn run(&self, spec: &RunSpec) -> Result<RunOutput, SandboxError> {
        let _ticket = self.gate.enter();
        self.run_with_channel(spec, None, None)
    }

    /// Run a judge and a candidate at once, connected by a private stream socket (a Unix
    /// socket pair) that each finds as the descriptor named by the `VERITY_CHANNEL_FD`
    /// environment variable. Nothing else is shared: two sandboxes, two `/code`, two `/tmp`,
    /// two pid namespaces. Counts as one run for the concurrency gate. Returns (judge,
    /// candidate).
    pub fn run_pair(
        &self,
        judge: &RunSpec,
        candidate: &RunSpec,
    ) -> Result<(RunOutput, RunOutput), SandboxError> {
        let _ticket = self.gate.enter();
        let (judge_end, candidate_end) =
            sys::socketpair().map_err(|source| SandboxError::Process {
                what: "create the judge/candidate channel",
                source,
            })?;
        let candidate_raw = candidate_end.as_raw_fd();
        let judge_raw = judge_end.as_raw_fd();
        // Once the judge is done, a candidate still running (stuck in its own code) is stopped.
        let judge_done = AtomicBool::new(false);
        std::thread::scope(|scope| {
            let judge_done = &judge_done;
            let candidate_run = scope.spawn(move || {
                let output =
                    self.run_with_channel(candidate, Some(candidate_raw), Some(judge_done));
                drop(candidate_end);
                output
            });
            let judge_output = self.run_with_channel(judge, Some(judge_raw), None);
            judge_done.store(true, Ordering::Relaxed);
            drop(judge_end);
            let candidate_output = candidate_run.join().unwrap_or_else(|_| {
                Err(SandboxError::Process {
                    what: "supervise the candidate",
                    source: io::Error::other("the supervising thread panicked"),
                })
            });
            Ok((judge_output?, candidate_output?))
        })
    }

    fn run_with_channel(
        &self,
        spec: &RunSpec,
        channel: Option<RawFd>,
        cancel: Option<&AtomicBool>,
    ) -> Result<RunOutput, SandboxError> {
        if spec.argv.is_empty() {
            return Err(SandboxError::BadPath {
                path: PathBuf::new(),
                reason: "empty argv",
            });
        }
        for file in &spec.files {
            validate_file_name(&file.name)?;
        }
        match &self.plan {
            Some(plan) => self.run_isolated(plan, spec, channel, cancel),
            None => self.run_unisolated(spec, channel, cancel),
        }
    }

    fn base_command(&self, spec: &RunSpec, code_dir: &str, channel: Option<RawFd>) -> Command {
        let argv: Vec<String> = spec
            .argv
            .iter()
            .map(|a| a.replace("{code}", code_dir))
            .collect();
        let mut command = Command::new(&argv[0]);
        command.args(&argv[1..]);
        command.env_clear();
        let has = |key: &str| spec.env.iter().any(|(k, _)| k == key);
        let defaults = [
            ("PATH", "/usr/local/bin:/usr/bin:/bin"),
            ("HOME", "/tmp"),
            ("TMPDIR", "/tmp"),
            ("LANG", "C.UTF-8"),
        ];
        let missing: Vec<(&str, &str)> = defaults.into_iter().filter(|(k, _)| !has(k)).collect();
        for (key, value) in missing {
            command.env(key, value);
        }
        for (key, value) in &spec.env {
            command.env(key, value);
        }
        if let Some(channel) = channel {
            command.env("VERITY_CHANNEL_FD", channel.to_string());
        }
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    fn child_limits(limits: &Limits) -> ChildLimits {
        let cpu = limits.cpu_seconds.unwrap_or_else(|| {
            limits.wall_timeout.as_secs() + 1 + u64::from(limits.wall_timeout.subsec_nanos() > 0)
        });
        ChildLimits {
            cpu_seconds: cpu.max(1),
            address_space: limits.address_space_bytes,
            file_size: limits.file_size_bytes,
            open_files: limits.open_files,
            processes: limits.processes,
        }
    }

    fn run_isolated(
        &self,
        plan: &Arc<MountPlan>,
        spec: &RunSpec,
        channel: Option<RawFd>,
        cancel: Option<&AtomicBool>,
    ) -> Result<RunOutput, SandboxError> {
        let (status_read, status_write) = sys::pipe().map_err(|source| SandboxError::Process {
            what: "create the status pipe",
            source,
        })?;
        let mut files = Vec::with_capacity(spec.files.len());
        for file in &spec.files {
            let path = format!("{}/{}", plan.code_prefix, file.name);
            files.push(ChildFile {
                path: CString::new(path).map_err(|_| SandboxError::BadFileName {
                    name: file.name.clone(),
                    reason: "contains a NUL byte",
                })?,
                contents: file.contents.clone(),
                mode: if file.executable { 0o755 } else { 0o644 },
            });
        }
        let code_bytes: u64 = spec.files.iter().map(|f| f.contents.len() as u64).sum();
        let tmpfs_options = |text: String| {
            CString::new(text).map_err(|_| SandboxError::BadPath {
                path: PathBuf::from("/"),
                reason: "bad tmpfs options",
            })
        };
        // The root tmpfs holds the mount points and /code: 1 MiB plus the run's files.
        let root_tmpfs_options = tmpfs_options(format!(
            "size={},mode=0755,nr_inodes=4096",
            (1 << 20) + code_bytes + 4096 * spec.files.len() as u64
        ))?;
        let shm_options = tmpfs_options(format!(
            "size={},mode=1777,nr_inodes=1024",
            spec.limits.shm_bytes.max(4096)
        ))?;
        let scratch_options = CString::new(format!(
            "size={},mode=1777,nr_inodes=16384",
            spec.limits.scratch_bytes.max(4096)
        ))
        .map_err(|_| SandboxError::BadPath {
            path: PathBuf::from("/tmp"),
            reason: "bad tmpfs options",
        })?;
        let child = Arc::new(IsolatedChild {
            plan: Arc::clone(plan),
            seccomp: Arc::clone(if spec.limits.inet_sockets_fail {
                &self.seccomp_inet_fails
            } else {
                &self.seccomp
            }),
            drop_to: self.drop_to,
            uid_map: self.uid_map.clone(),
            gid_map: self.gid_map.clone(),
            files,
            scratch_options,
            loopback: self.config.loopback_network,
            limits: Self::child_limits(&spec.limits),
            status_fd: status_write.as_raw_fd(),
            channel_fd: channel,
            parent_pid: std::process::id() as libc::pid_t,
            watchdog_seconds: watchdog_seconds(&spec.limits),
            wipe: self.own_areas,
            root_tmpfs_options,
            shm_options,
        });
        let mut command = self.base_command(spec, "/code", channel);
        let hook_child = Arc::clone(&child);
        sys::set_pre_exec(&mut command, move || hook_child.run());
        self.supervise(command, spec, status_read, status_write, true, cancel)
    }

    fn run_unisolated(
        &self,
        spec: &RunSpec,
        channel: Option<RawFd>,
        cancel: Option<&AtomicBool>,
    ) -> Result<RunOutput, SandboxError> {
        let dir = TempDir::new("verity-run")?;
        for file in &spec.files {
            let path = dir.path.join(&file.name);
            std::fs::write(&path, &file.contents).map_err(|source| SandboxError::Io {
                what: "cannot write a program file",
                path: path.clone(),
                source,
            })?;
            if file.executable {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).map_err(
                    |source| SandboxError::Io {
                        what: "cannot make a program file executable",
                        path: path.clone(),
                        source,
                    },
                )?;
            }
        }
        let (status_read, status_write) = sys::pipe().map_err(|source| SandboxError::Process {
            what: "create the status pipe",
            source,
        })?;
        let code_dir = dir.path.to_string_lossy().into_owned();
        let mut command = self.base_command(spec, &code_dir, channel);
        command.current_dir(&dir.path);
        let child = UnisolatedChild {
            limits: Self::child_limits(&spec.limits),
            status_fd: status_write.as_raw_fd(),
            channel_fd: channel,
        };
        sys::set_pre_exec(&mut command, move || child.run());
        self.supervise(command, spec, status_read, status_write, false, cancel)
    }

    fn supervise(
        &self,
        mut command: Command,
        spec: &RunSpec,
        status_read: OwnedFd,
        status_write: OwnedFd,
        isolated: bool,
        cancel: Option<&AtomicBool>,
    ) -> Result<RunOutput, SandboxError> {
        let started = Instant::now();
        let spawned = command.spawn();
        // The parent's copy of the write end must go, so that EOF arrives when the children exit.
        drop(status_write);
        let mut supervisor = Supervisor::new(status_read);
        let mut process = match spawned {
            Ok(process) => process,
            Err(source) => {
                supervisor.drain_status_nonblocking();
                return Err(match supervisor.failed_step {
                    Some(step) => SandboxError::Setup { step, source },
                    None => SandboxError::Process {
                        what: "start the sandboxed program",
                        source,
                    },
                });
            }
        };
        let outer_pid = process.id() as libc::pid_t;
        let stdin = process.stdin.take();
        let stdout = process.stdout.take();
        let stderr = process.stderr.take();
        let outcome = supervisor.pump(
            stdin,
            stdout,
            stderr,
            &spec.stdin,
            &spec.limits,
            started,
            isolated,
            outer_pid,
            cancel,
        );
        // Reap the direct child (the waiter, or the program itself when unisolated).
        let wait_status = process.wait().map_err(|source| SandboxError::Process {
            what: "wait for the sandboxed program",
            source,
        })?;
        let wall = started.elapsed();
        if let Some(step) = supervisor.failed_step {
            return Err(SandboxError::Setup {
                step,
                source: io::Error::from_raw_os_error(supervisor.failed_errno),
            });
        }
        let termination = match outcome.killed_for {
            Some(reason) => reason,
            None => {
                let raw = if isolated {
                    supervisor.status.unwrap_or(0x7f00)
                } else {
                    wait_status.into_raw()
                };
                decode_status(raw)
            }
        };
        Ok(RunOutput {
            termination,
            stdout: outcome.stdout,
            stderr: outcome.stderr,
            wall,
            isolated,
            tree_memory_peak: outcome.tree_memory_peak,
        })
    }
}

/// How often the resident memory of a run's tree is sampled.
const MEMORY_SAMPLE: Duration = Duration::from_millis(50);

/// The waiter's watchdog: the wall timeout plus a margin for verity's own kill to come first.
fn watchdog_seconds(limits: &Limits) -> u32 {
    let seconds = limits.wall_timeout.as_secs().saturating_add(10);
    u32::try_from(seconds).unwrap_or(u32::MAX)
}

/// The argv and environment areas of this process (from `/proc/self/stat`, fields 48 to 51).
fn own_argv_and_environment() -> [(usize, usize); 2] {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return [(0, 0); 2];
    };
    // Fields after the command name (which may contain spaces) start at field 3.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return [(0, 0); 2];
    };
    let fields: Vec<usize> = rest
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let field = |n: usize| fields.get(n - 3).copied().unwrap_or(0);
    [(field(48), field(49)), (field(50), field(51))]
}

/// Temporary directories of sandboxes whose verity process is gone (killed before it could
/// clean up), removed at the next start.
fn remove_stale_temp_dirs() {
    let base = std::env::temp_dir();
    let Ok(entries) = std::fs::read_dir(&base) else {
        return;
    };
    let own = std::process::id();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(rest) = name
            .strip_prefix("verity-sandbox-root-")
            .or_else(|| name.strip_prefix("verity-run-"))
        else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != own && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn decode_status(raw: i32) -> Termination {
    if libc::WIFEXITED(raw) {
        Termination::Exited(libc::WEXITSTATUS(raw))
    } else if libc::WIFSIGNALED(raw) {
        Termination::Signaled(libc::WTERMSIG(raw))
    } else {
        Termination::Signaled(0)
    }
}

fn validate_file_name(name: &str) -> Result<(), SandboxError> {
    let bad = |reason| SandboxError::BadFileName {
        name: name.to_string(),
        reason,
    };
    if name.is_empty() || name == "." || name == ".." {
        return Err(bad("empty or a dot name"));
    }
    if name.contains('/') || name.contains('\0') {
        return Err(bad("contains `/` or a NUL byte"));
    }
    Ok(())
}

struct PumpOutcome {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    killed_for: Option<Termination>,
    tree_memory_peak: u64,
}

/// Reads the status pipe and the program's output, feeds stdin, enforces the timeout and the
/// output cap.
struct Supervisor {
    status_fd: OwnedFd,
    status_buffer: Vec<u8>,
    status_eof: bool,
    pid_one: Option<libc::pid_t>,
    status: Option<i32>,
    failed_step: Option<&'static str>,
    failed_errno: i32,
}

impl Supervisor {
    fn new(status_fd: OwnedFd) -> Supervisor {
        Supervisor {
            status_fd,
            status_buffer: Vec::new(),
            status_eof: false,
            pid_one: None,
            status: None,
            failed_step: None,
            failed_errno: 0,
        }
    }

    fn parse_status(&mut self) {
        while self.status_buffer.len() >= 8 {
            let tag = u32::from_le_bytes([
                self.status_buffer[0],
                self.status_buffer[1],
                self.status_buffer[2],
                self.status_buffer[3],
            ]);
            let value = u32::from_le_bytes([
                self.status_buffer[4],
                self.status_buffer[5],
                self.status_buffer[6],
                self.status_buffer[7],
            ]);
            self.status_buffer.drain(..8);
            match tag {
                TAG_PID => self.pid_one = Some(value as libc::pid_t),
                TAG_STATUS => self.status = Some(value as i32),
                TAG_FAILED => {
                    let step = (value >> 16) as usize;
                    self.failed_step = Some(STEP_NAMES.get(step).copied().unwrap_or("unknown"));
                    self.failed_errno = (value & 0xffff) as i32;
                }
                _ => {}
            }
        }
    }

    fn read_status(&mut self) {
        let mut buffer = [0u8; 64];
        match sys::read(self.status_fd.as_raw_fd(), &mut buffer) {
            Ok(0) => self.status_eof = true,
            Ok(count) => {
                self.status_buffer.extend_from_slice(&buffer[..count]);
                self.parse_status();
            }
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => self.status_eof = true,
        }
    }

    fn drain_status_nonblocking(&mut self) {
        if sys::set_nonblocking(self.status_fd.as_raw_fd()).is_err() {
            return;
        }
        for _ in 0..16 {
            let before = self.status_buffer.len();
            self.read_status();
            if self.status_eof || self.status_buffer.len() == before {
                break;
            }
        }
    }

    fn kill_tree(&self, outer_pid: libc::pid_t, isolated: bool) {
        if isolated {
            // The namespace's init: when it dies the kernel kills every other member (the
            // program has PDEATHSIG=SIGKILL on init as well). The outer waiter is killed too.
            if self.status.is_none() {
                if let Some(pid) = self.pid_one {
                    sys::kill(pid, libc::SIGKILL);
                }
            }
            sys::kill(outer_pid, libc::SIGKILL);
        } else {
            sys::kill_group(outer_pid, libc::SIGKILL);
            sys::kill(outer_pid, libc::SIGKILL);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn pump(
        &mut self,
        stdin: Option<std::process::ChildStdin>,
        stdout: Option<std::process::ChildStdout>,
        stderr: Option<std::process::ChildStderr>,
        input: &[u8],
        limits: &Limits,
        started: Instant,
        isolated: bool,
        outer_pid: libc::pid_t,
        cancel: Option<&AtomicBool>,
    ) -> PumpOutcome {
        let mut stdin = stdin;
        if input.is_empty() {
            stdin = None;
        }
        if let Some(pipe) = &stdin {
            let _ = sys::set_nonblocking(pipe.as_raw_fd());
        }
        let mut written = 0usize;
        let mut out = PumpOutcome {
            stdout: Vec::new(),
            stderr: Vec::new(),
            killed_for: None,
            tree_memory_peak: 0,
        };
        let mut tree: Option<tree_memory::TreeMemory> = None;
        let mut next_sample = started + MEMORY_SAMPLE;
        let mut stdout = stdout;
        let mut stderr = stderr;
        let deadline = started + limits.wall_timeout;
        let mut grace_deadline: Option<Instant> = None;
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let status_done = self.status_eof || (!isolated);
            if stdout.is_none() && stderr.is_none() && status_done {
                break;
            }
            let now = Instant::now();
            if out.killed_for.is_none() && cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                out.killed_for = Some(Termination::Cancelled);
                self.kill_tree(outer_pid, isolated);
                grace_deadline = Some(now + Duration::from_secs(5));
            }
            if out.killed_for.is_none() && now >= deadline {
                out.killed_for = Some(Termination::WallTimeout);
                self.kill_tree(outer_pid, isolated);
                grace_deadline = Some(now + Duration::from_secs(5));
            }
            if isolated && out.killed_for.is_none() && self.status.is_none() && now >= next_sample {
                next_sample = now + MEMORY_SAMPLE;
                if tree.is_none() {
                    tree = self.pid_one.and_then(tree_memory::TreeMemory::new);
                }
                if let Some(tree) = &tree {
                    let resident = tree.resident_bytes();
                    out.tree_memory_peak = out.tree_memory_peak.max(resident);
                    if resident > limits.tree_memory_bytes {
                        out.killed_for = Some(Termination::MemoryLimit);
                        self.kill_tree(outer_pid, isolated);
                        grace_deadline = Some(now + Duration::from_secs(5));
                    }
                }
            }
            if self.status.is_some() && grace_deadline.is_none() {
                // The program has exited and init with it; the kernel is killing the rest. Do not wait forever for EOF.
                grace_deadline = Some(now + Duration::from_secs(5));
            }
            if let Some(grace) = grace_deadline {
                if now >= grace {
                    self.kill_tree(outer_pid, isolated);
                    break;
                }
            }
            let mut fds: Vec<libc::pollfd> = Vec::with_capacity(4);
            let mut roles: Vec<u8> = Vec::with_capacity(4);
            if !self.status_eof && isolated {
                fds.push(pollfd(self.status_fd.as_raw_fd(), libc::POLLIN));
                roles.push(0);
            }
            if let Some(pipe) = &stdout {
                fds.push(pollfd(pipe.as_raw_fd(), libc::POLLIN));
                roles.push(1);
            }
            if let Some(pipe) = &stderr {
                fds.push(pollfd(pipe.as_raw_fd(), libc::POLLIN));
                roles.push(2);
            }
            if let Some(pipe) = &stdin {
                fds.push(pollfd(pipe.as_raw_fd(), libc::POLLOUT));
                roles.push(3);
            }
            let mut until = grace_deadline.unwrap_or(deadline).max(now);
            if (isolated || cancel.is_some()) && out.killed_for.is_none() {
                until = until.min(next_sample.max(now));
            }
            let timeout_ms = until.duration_since(now).as_millis().clamp(1, 1000) as libc::c_int;
            if sys::poll(&mut fds, timeout_ms).is_err() {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            for (pfd, role) in fds.iter().zip(&roles) {
                if pfd.revents == 0 {
                    continue;
                }
                match role {
                    0 => self.read_status(),
                    1 | 2 => {
                        let (pipe_fd, sink) = if *role == 1 {
                            (stdout.as_ref().map(|p| p.as_raw_fd()), &mut out.stdout)
                        } else {
                            (stderr.as_ref().map(|p| p.as_raw_fd()), &mut out.stderr)
                        };
                        let Some(pipe_fd) = pipe_fd else { continue };
                        match sys::read(pipe_fd, &mut buffer) {
                            Ok(0) | Err(_) => {
                                if *role == 1 {
                                    stdout = None;
                                } else {
                                    stderr = None;
                                }
                            }
                            Ok(count) => {
                                let room = limits.output_bytes.saturating_sub(sink.len());
                                sink.extend_from_slice(&buffer[..count.min(room)]);
                                if count > room && out.killed_for.is_none() {
                                    out.killed_for = Some(Termination::OutputLimit);
                                    self.kill_tree(outer_pid, isolated);
                                    grace_deadline = Some(Instant::now() + Duration::from_secs(5));
                                }
                            }
                        }
                    }
                    _ => {
                        if let Some(pipe) = &mut stdin {
                            match pipe.write(&input[written..]) {
                                Ok(count) => {
                                    written += count;
                                    if written >= input.len() {
                                        stdin = None;
                                    }
                                }
                                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                                Err(_) => stdin = None,
                            }
                        }
                    }
                }
            }
        }
        out
    }
}

fn pollfd(fd: std::os::fd::RawFd, events: libc::c_short) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}

/// A host temporary directory for the unisolated fallback, removed on drop.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new(prefix: &str) -> Result<TempDir, SandboxError> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let base = std::env::temp_dir();
        for _ in 0..100 {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = base.join(format!("{prefix}-{}-{n}", std::process::id()));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(TempDir { path }),
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(source) => {
                    return Err(SandboxError::Io {
                        what: "cannot create a temporary directory",
                        path,
                        source,
                    })
                }
            }
        }
        Err(SandboxError::Io {
            what: "cannot create a temporary directory",
            path: base,
            source: io::Error::from(io::ErrorKind::AlreadyExists),
        })
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
