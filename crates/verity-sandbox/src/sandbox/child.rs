//! The code that runs in the forked child, between `fork` and `execve`.
//!
//! What it does, in order (each step numbered; a failure is reported to the parent as
//! `step << 16 | errno` on the status pipe):
//!
//! 1. create new mount, pid, network, ipc, uts and cgroup namespaces — plus, when *not* started
//!    by root, a user namespace (mapping the caller's uid to the sandbox uid) that grants the
//!    privileges for the next steps;
//! 2. fork: the first process becomes a waiter outside the namespace that closes every
//!    descriptor but the status pipe, reports the outer pid of its child and waits for it; the
//!    child is pid 1 (init) of the new pid namespace, so when it dies the kernel kills every
//!    process left in the namespace (no background process outlives a run);
//! 3. pid 1 makes every mount private, builds a new root on a small tmpfs (read-only binds of
//!    `/usr`, the interpreter, a few `/etc` files and device nodes; the run's files in `/code`;
//!    a fresh `/proc`; a size-limited tmpfs `/tmp` as the only writable place), pivots into it,
//!    detaches the old root and remounts `/` read-only;
//! 4. sets the hostname, optionally brings up `lo`, then forks the program (pid 2) and stays as
//!    init: it reaps orphans and, when the program exits, reports its wait status and exits,
//!    which kills whatever the program left behind;
//! 5. (the program, pid 2) when started by root: drops to the sandbox uid/gid (no supplementary groups), then
//!    creates a user namespace mapping that uid to itself — the program is never root on the
//!    host, and holds no capability over the namespaces it lives in;
//! 6. applies the rlimits, marks all descriptors close-on-exec, empties the capability bounding
//!    and ambient sets, asks for `SIGKILL` if the waiter dies, and installs the seccomp filter
//!    (which sets `no_new_privs`).
//!
//! `execve` of a program whose uid inside its user namespace is not 0 then clears every
//! capability.
//!
//! Why this shape: it needs no setuid helper and no external binary, and works both for root
//! (CI containers) and for unprivileged users with user namespaces enabled.

use super::plan::MountPlan;
use super::sys;
use std::ffi::CString;
use std::io;
use std::os::fd::RawFd;
use std::sync::Arc;

/// Status pipe message tags.
pub(crate) const TAG_PID: u32 = 1;
pub(crate) const TAG_STATUS: u32 = 2;
pub(crate) const TAG_FAILED: u32 = 3;

/// Names of the setup steps, indexed by step number (for error messages).
pub(crate) const STEP_NAMES: &[&str] = &[
    "none",
    "drop to the sandbox uid/gid",
    "create namespaces (unshare)",
    "write /proc/self/setgroups",
    "write /proc/self/uid_map",
    "write /proc/self/gid_map",
    "fork pid 1 of the new pid namespace",
    "make mounts private",
    "mount the root tmpfs",
    "create a directory in the new root",
    "create a symbolic link in the new root",
    "create a bind-mount point",
    "bind-mount a host path",
    "remount a bind mount read-only",
    "write a program file into /code",
    "mount /tmp (scratch tmpfs)",
    "pivot_root",
    "detach the old root",
    "remount / read-only",
    "set the hostname",
    "bring up loopback",
    "chdir to /tmp",
    "set rlimits",
    "mark descriptors close-on-exec",
    "drop capabilities",
    "set the parent-death signal",
    "install the seccomp filter",
    "set dumpable",
    "create a new session",
    "mount /proc",
    "mount /dev/shm",
    "pass the judge channel",
];

/// A file written into `/code` by the namespace's init.
pub(crate) struct ChildFile {
    pub path: CString,
    pub contents: Vec<u8>,
    pub mode: libc::mode_t,
}

/// Resource limits, already in kernel units.
pub(crate) struct ChildLimits {
    pub cpu_seconds: u64,
    pub address_space: u64,
    pub file_size: u64,
    pub open_files: u64,
    pub processes: u64,
}

/// Everything one isolated run needs in the child.
pub(crate) struct IsolatedChild {
    pub plan: Arc<MountPlan>,
    pub seccomp: Arc<Vec<libc::sock_filter>>,
    /// Started as root: drop to these ids once the root is built.
    pub drop_to: Option<(libc::uid_t, libc::gid_t)>,
    pub uid_map: Vec<u8>,
    pub gid_map: Vec<u8>,
    pub files: Vec<ChildFile>,
    pub scratch_options: CString,
    pub loopback: bool,
    pub limits: ChildLimits,
    pub status_fd: RawFd,
    /// One end of the judge/candidate channel, inherited by the program (not close-on-exec).
    pub channel_fd: Option<RawFd>,
    /// verity's pid: the waiter exits at once if it was orphaned before asking for `SIGKILL`.
    pub parent_pid: libc::pid_t,
    /// Watchdog of the waiter: it dies (and with it the whole sandbox) after this many seconds
    /// even if verity never kills it (stopped, hung).
    pub watchdog_seconds: u32,
    /// verity's argv and environment areas (wiped in the namespace's init).
    pub wipe: [(usize, usize); 2],
    /// Options of the root tmpfs (sized for this run's files).
    pub root_tmpfs_options: CString,
    /// Options of the `/dev/shm` tmpfs.
    pub shm_options: CString,
}

fn report(status_fd: RawFd, tag: u32, value: u32) {
    let mut message = [0u8; 8];
    message[..4].copy_from_slice(&tag.to_le_bytes());
    message[4..].copy_from_slice(&value.to_le_bytes());
    let _ = sys::write_all(status_fd, &message);
}

/// Tag an error with its step number, report it and hand it back.
fn fail(status_fd: RawFd, step: u32, error: io::Error) -> io::Error {
    let errno = error.raw_os_error().unwrap_or(0) as u32;
    report(status_fd, TAG_FAILED, (step << 16) | (errno & 0xffff));
    error
}

macro_rules! step {
    ($fd:expr, $step:expr, $call:expr) => {
        $call.map_err(|error| fail($fd, $step, error))?
    };
}

const PROC_SETGROUPS: &std::ffi::CStr = c"/proc/self/setgroups";
const PROC_UID_MAP: &std::ffi::CStr = c"/proc/self/uid_map";
const PROC_GID_MAP: &std::ffi::CStr = c"/proc/self/gid_map";

impl IsolatedChild {
    /// The `pre_exec` hook. Returns `Ok` only in the program process (pid 2 of the namespace),
    /// which then `execve`s the program; the waiter and init processes never return.
    pub(crate) fn run(&self) -> io::Result<()> {
        let fd = self.status_fd;
        // Die with verity whatever ends it; if it is already gone, do not start anything.
        step!(
            fd,
            25,
            sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong)
        );
        if sys::getppid() != self.parent_pid {
            sys::exit_now(1);
        }
        let mut namespaces = libc::CLONE_NEWNS
            | libc::CLONE_NEWPID
            | libc::CLONE_NEWNET
            | libc::CLONE_NEWIPC
            | libc::CLONE_NEWUTS
            | libc::CLONE_NEWCGROUP;
        if self.drop_to.is_none() {
            namespaces |= libc::CLONE_NEWUSER;
        }
        step!(fd, 2, sys::unshare(namespaces));
        if self.drop_to.is_none() {
            self.map_ids()?;
        }
        match step!(fd, 6, sys::fork()) {
            sys::Forked::Parent(pid) => {
                // Outside the namespace: report the outer pid of the namespace's init (the
                // parent kills it on timeout), hold nothing the parent waits on (stdio, other
                // runs' pipes), and stay until init is gone.
                sys::close_all_except(fd);
                report(fd, TAG_PID, pid as u32);
                // Watchdog: SIGALRM's default action ends the waiter, whose death kills init
                // (parent-death signal), whose death kills the namespace.
                sys::alarm(self.watchdog_seconds);
                let _ = sys::waitpid(pid);
                sys::exit_now(0);
            }
            sys::Forked::Child => self.pid_one(),
        }
    }

    /// Write `setgroups`, `uid_map` and `gid_map` of the current (new) user namespace.
    fn map_ids(&self) -> io::Result<()> {
        let fd = self.status_fd;
        step!(fd, 3, write_proc(PROC_SETGROUPS, b"deny"));
        step!(fd, 4, write_proc(PROC_UID_MAP, &self.uid_map));
        step!(fd, 5, write_proc(PROC_GID_MAP, &self.gid_map));
        Ok(())
    }

    fn pid_one(&self) -> io::Result<()> {
        let fd = self.status_fd;
        let plan = &self.plan;
        step!(
            fd,
            25,
            sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong)
        );
        // Nothing of verity's command line or environment is visible as /proc/1 inside.
        for (start, end) in self.wipe {
            sys::wipe_range(start, end);
        }
        step!(
            fd,
            7,
            sys::mount(None, c"/", None, libc::MS_REC | libc::MS_PRIVATE, None)
        );
        step!(
            fd,
            8,
            sys::mount(
                Some(c"tmpfs"),
                &plan.new_root,
                Some(c"tmpfs"),
                libc::MS_NOSUID | libc::MS_NODEV,
                Some(&self.root_tmpfs_options),
            )
        );
        // The scratch tmpfs first: read-only paths under /tmp are then bound on top of it.
        step!(fd, 9, sys::mkdir(&plan.scratch_dir, 0o755));
        step!(
            fd,
            15,
            sys::mount(
                Some(c"tmpfs"),
                &plan.scratch_dir,
                Some(c"tmpfs"),
                libc::MS_NOSUID | libc::MS_NODEV,
                Some(&self.scratch_options),
            )
        );
        for dir in &plan.dirs {
            step!(fd, 9, sys::mkdir(dir, 0o755));
        }
        for (target, link) in &plan.symlinks {
            step!(fd, 10, sys::symlink(target, link));
        }
        for bind in &plan.binds {
            if bind.is_file {
                step!(fd, 11, sys::write_file(&bind.target, b"", 0o644));
            } else {
                step!(fd, 11, sys::mkdir(&bind.target, 0o755));
            }
            step!(
                fd,
                12,
                sys::mount(
                    Some(&bind.source),
                    &bind.target,
                    None,
                    libc::MS_BIND | libc::MS_REC,
                    None
                )
            );
            step!(
                fd,
                13,
                sys::mount(None, &bind.target, None, bind.remount_flags, None)
            );
        }
        step!(fd, 9, sys::mkdir(&plan.shm_dir, 0o755));
        step!(
            fd,
            30,
            sys::mount(
                Some(c"tmpfs"),
                &plan.shm_dir,
                Some(c"tmpfs"),
                libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                Some(&self.shm_options),
            )
        );
        for file in &self.files {
            step!(
                fd,
                14,
                sys::write_file(&file.path, &file.contents, file.mode)
            );
        }
        // A fresh /proc for the new pid namespace. Some container runtimes forbid it (masked
        // /proc paths); the sandbox then simply has no /proc.
        // `hidepid=invisible` hides init (another uid) from the program where supported.
        let proc_flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
        let have_proc = sys::mount(
            Some(c"proc"),
            &plan.proc_dir,
            Some(c"proc"),
            proc_flags,
            Some(c"hidepid=2"),
        )
        .or_else(|_| {
            sys::mount(
                Some(c"proc"),
                &plan.proc_dir,
                Some(c"proc"),
                proc_flags,
                None,
            )
        })
        .is_ok();
        step!(fd, 9, sys::mkdir(&plan.old_root, 0o700));
        step!(fd, 16, sys::pivot_root(&plan.new_root, &plan.old_root));
        step!(fd, 16, sys::chdir(c"/"));
        step!(
            fd,
            17,
            sys::umount2(&plan.old_root_after_pivot, libc::MNT_DETACH)
        );
        step!(fd, 17, sys::rmdir(&plan.old_root_after_pivot));
        step!(
            fd,
            18,
            sys::mount(
                None,
                c"/",
                None,
                libc::MS_BIND
                    | libc::MS_REMOUNT
                    | libc::MS_RDONLY
                    | libc::MS_NOSUID
                    | libc::MS_NODEV,
                None
            )
        );
        step!(fd, 19, sys::sethostname(b"sandbox"));
        if self.loopback {
            step!(fd, 20, sys::loopback_up());
        }
        step!(fd, 21, sys::chdir(c"/tmp"));
        // pid 1 stays a tiny init (reaping orphans, reporting the program's status); the
        // program runs as pid 2, so it gets normal signal semantics (pid 1 of a namespace
        // ignores SIGXCPU and other default-action signals).
        match step!(fd, 6, sys::fork()) {
            sys::Forked::Parent(program) => {
                sys::close_all_except(fd);
                let _ = sys::prctl(libc::PR_SET_DUMPABLE, 0);
                loop {
                    match sys::wait_any() {
                        Ok((pid, status)) if pid == program => {
                            report(fd, TAG_STATUS, status as u32);
                            sys::exit_now(0);
                        }
                        Ok(_) => {}
                        Err(_) => sys::exit_now(1),
                    }
                }
            }
            sys::Forked::Child => self.program(have_proc),
        }
    }

    /// The program's last steps before `execve`: privileges, limits, seccomp.
    fn program(&self, have_proc: bool) -> io::Result<()> {
        let fd = self.status_fd;
        if let Some((uid, gid)) = self.drop_to {
            step!(fd, 1, sys::become_user(uid, gid));
            if have_proc {
                // An own user namespace on top; needs /proc to write the id maps.
                step!(fd, 27, sys::prctl(libc::PR_SET_DUMPABLE, 1));
                step!(fd, 2, sys::unshare(libc::CLONE_NEWUSER));
                self.map_ids()?;
            }
        }
        self.apply_limits()?;
        step!(fd, 23, sys::cloexec_from_3());
        if let Some(channel) = self.channel_fd {
            step!(fd, 31, sys::clear_cloexec(channel));
        }
        step!(fd, 24, sys::drop_capabilities());
        step!(
            fd,
            25,
            sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong)
        );
        step!(fd, 26, sys::install_seccomp(&self.seccomp));
        Ok(())
    }

    fn apply_limits(&self) -> io::Result<()> {
        apply_limits(&self.limits, self.status_fd)
    }
}

pub(crate) fn apply_limits(limits: &ChildLimits, fd: RawFd) -> io::Result<()> {
    // CPU: SIGXCPU at the soft limit (reported as a timeout), SIGKILL two seconds later for a
    // program that ignores it. (With soft == hard the kernel would send SIGKILL directly.)
    step!(
        fd,
        22,
        sys::setrlimit(libc::RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 2)
    );
    for (resource, value) in [
        (libc::RLIMIT_AS, limits.address_space),
        (libc::RLIMIT_FSIZE, limits.file_size),
        (libc::RLIMIT_NOFILE, limits.open_files),
        (libc::RLIMIT_NPROC, limits.processes),
        (libc::RLIMIT_CORE, 0),
    ] {
        step!(fd, 22, sys::setrlimit(resource, value, value));
    }
    Ok(())
}

fn write_proc(path: &std::ffi::CStr, data: &[u8]) -> io::Result<()> {
    sys::write_existing(path, data)
}

/// The `pre_exec` hook of the unisolated fallback: own session (so the whole group can be
/// killed), rlimits, and the parent-death signal.
pub(crate) struct UnisolatedChild {
    pub limits: ChildLimits,
    pub status_fd: RawFd,
    pub channel_fd: Option<RawFd>,
}

impl UnisolatedChild {
    pub(crate) fn run(&self) -> io::Result<()> {
        let fd = self.status_fd;
        step!(fd, 28, sys::setsid());
        apply_limits(&self.limits, fd)?;
        if let Some(channel) = self.channel_fd {
            step!(fd, 31, sys::clear_cloexec(channel));
        }
        step!(
            fd,
            25,
            sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong)
        );
        Ok(())
    }
}
