//! Thin, allocation-free wrappers over the Linux system calls the sandbox needs.
//!
//! What it does: every function converts a `-1` return into [`std::io::Error::last_os_error`]
//! (which does not allocate) and takes `&CStr` paths prepared by the parent, so the wrappers can
//! be called in the forked child between `fork` and `execve`, where only async-signal-safe work
//! is allowed.
//!
//! Why here: this is the only module of the crate with `unsafe` code; each block states why it
//! is sound.
#![allow(unsafe_code)]

use std::ffi::CStr;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::ptr;

fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn cvt_long(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// `unshare(2)`.
pub(crate) fn unshare(flags: libc::c_int) -> io::Result<()> {
    // SAFETY: plain system call without pointers.
    cvt(unsafe { libc::unshare(flags) }).map(drop)
}

/// `mount(2)`; `None` arguments are passed as NULL.
pub(crate) fn mount(
    source: Option<&CStr>,
    target: &CStr,
    fstype: Option<&CStr>,
    flags: libc::c_ulong,
    data: Option<&CStr>,
) -> io::Result<()> {
    let ptr_of = |value: Option<&CStr>| value.map_or(ptr::null(), CStr::as_ptr);
    // SAFETY: every pointer is either NULL or a valid NUL-terminated string that outlives the call.
    cvt(unsafe {
        libc::mount(
            ptr_of(source),
            target.as_ptr(),
            ptr_of(fstype),
            flags,
            ptr_of(data).cast(),
        )
    })
    .map(drop)
}

/// `umount2(2)`.
pub(crate) fn umount2(target: &CStr, flags: libc::c_int) -> io::Result<()> {
    // SAFETY: valid NUL-terminated path.
    cvt(unsafe { libc::umount2(target.as_ptr(), flags) }).map(drop)
}

/// `pivot_root(2)`.
pub(crate) fn pivot_root(new_root: &CStr, put_old: &CStr) -> io::Result<()> {
    // SAFETY: valid NUL-terminated paths.
    cvt_long(unsafe { libc::syscall(libc::SYS_pivot_root, new_root.as_ptr(), put_old.as_ptr()) })
        .map(drop)
}

/// `mkdir(2)`; an existing entry is not an error.
pub(crate) fn mkdir(path: &CStr, mode: libc::mode_t) -> io::Result<()> {
    // SAFETY: valid NUL-terminated path.
    match cvt(unsafe { libc::mkdir(path.as_ptr(), mode) }) {
        Ok(_) => Ok(()),
        Err(error) if error.raw_os_error() == Some(libc::EEXIST) => Ok(()),
        Err(error) => Err(error),
    }
}

/// `rmdir(2)`.
pub(crate) fn rmdir(path: &CStr) -> io::Result<()> {
    // SAFETY: valid NUL-terminated path.
    cvt(unsafe { libc::rmdir(path.as_ptr()) }).map(drop)
}

/// `symlink(2)`.
pub(crate) fn symlink(target: &CStr, link: &CStr) -> io::Result<()> {
    // SAFETY: valid NUL-terminated paths.
    cvt(unsafe { libc::symlink(target.as_ptr(), link.as_ptr()) }).map(drop)
}

/// `chdir(2)`.
pub(crate) fn chdir(path: &CStr) -> io::Result<()> {
    // SAFETY: valid NUL-terminated path.
    cvt(unsafe { libc::chdir(path.as_ptr()) }).map(drop)
}

/// Create (or truncate) a file and write `data` to it, then close it.
pub(crate) fn write_file(path: &CStr, data: &[u8], mode: libc::mode_t) -> io::Result<()> {
    // SAFETY: valid NUL-terminated path; the returned descriptor is closed below.
    let fd = cvt(unsafe {
        libc::open(
            path.as_ptr(),
            libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC,
            mode as libc::c_uint,
        )
    })?;
    let result = write_all(fd, data);
    // SAFETY: `fd` was opened above and is closed exactly once.
    unsafe { libc::close(fd) };
    result
}

/// Open an existing file write-only (no create, no truncate: for `/proc` files) and write `data`
/// in a single `write`.
pub(crate) fn write_existing(path: &CStr, data: &[u8]) -> io::Result<()> {
    // SAFETY: valid NUL-terminated path; the returned descriptor is closed below.
    let fd = cvt(unsafe { libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) })?;
    let result = write_all(fd, data);
    // SAFETY: `fd` was opened above and is closed exactly once.
    unsafe { libc::close(fd) };
    result
}

/// Write all of `data` to `fd`, retrying on `EINTR`.
pub(crate) fn write_all(fd: RawFd, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        // SAFETY: the pointer and length describe a live slice.
        let written = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
        if written < 0 {
            let error = io::Error::last_os_error();
            if error.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(error);
        }
        data = &data[written as usize..];
    }
    Ok(())
}

/// `read(2)` into `buffer`, retrying on `EINTR`. Returns 0 at end of file.
pub(crate) fn read(fd: RawFd, buffer: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: the pointer and length describe a live, writable slice.
        let count = unsafe { libc::read(fd, buffer.as_mut_ptr().cast(), buffer.len()) };
        if count >= 0 {
            return Ok(count as usize);
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// `pipe2(O_CLOEXEC)`: (read end, write end).
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` is a valid array of two ints.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: both descriptors were just created and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Put `fd` in non-blocking mode.
pub(crate) fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor we own.
    let flags = cvt(unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    // SAFETY: as above.
    cvt(unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) }).map(drop)
}

/// `sethostname(2)`.
pub(crate) fn sethostname(name: &[u8]) -> io::Result<()> {
    // SAFETY: pointer and length describe a live slice.
    cvt(unsafe { libc::sethostname(name.as_ptr().cast(), name.len()) }).map(drop)
}

/// `setrlimit(2)` with the given soft and hard limits.
pub(crate) fn setrlimit(
    resource: libc::__rlimit_resource_t,
    soft: u64,
    hard: u64,
) -> io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: soft as libc::rlim_t,
        rlim_max: hard as libc::rlim_t,
    };
    // SAFETY: `limit` is a valid rlimit struct.
    cvt(unsafe { libc::setrlimit(resource, &limit) }).map(drop)
}

/// `prctl(2)` with integer arguments.
pub(crate) fn prctl(option: libc::c_int, arg2: libc::c_ulong) -> io::Result<()> {
    // SAFETY: the options used by this crate take integer arguments only.
    cvt(unsafe {
        libc::prctl(
            option,
            arg2,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    })
    .map(drop)
}

/// Drop every capability from the bounding set and clear the ambient set.
pub(crate) fn drop_capabilities() -> io::Result<()> {
    for capability in 0..=63 {
        match prctl(libc::PR_CAPBSET_DROP, capability) {
            Ok(()) => {}
            // Past the last capability this kernel knows.
            Err(error) if error.raw_os_error() == Some(libc::EINVAL) => break,
            Err(error) => return Err(error),
        }
    }
    // SAFETY: integer-only prctl.
    cvt(unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    })
    .map(drop)
}

/// Install a seccomp BPF program (sets `no_new_privs` first, which the kernel requires).
pub(crate) fn install_seccomp(program: &[libc::sock_filter]) -> io::Result<()> {
    prctl(libc::PR_SET_NO_NEW_PRIVS, 1)?;
    let fprog = libc::sock_fprog {
        len: program.len() as libc::c_ushort,
        filter: program.as_ptr().cast_mut(),
    };
    // SAFETY: the kernel copies the program out of `fprog`, which outlives the call.
    cvt_long(unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0 as libc::c_ulong,
            &fprog as *const libc::sock_fprog,
        )
    })
    .map(drop)
}

/// Switch to `uid`/`gid` with no supplementary groups (needs privilege in the current namespace).
pub(crate) fn become_user(uid: libc::uid_t, gid: libc::gid_t) -> io::Result<()> {
    // SAFETY: empty group list (NULL pointer with length 0 is allowed).
    cvt(unsafe { libc::setgroups(0, ptr::null()) })?;
    // SAFETY: plain system calls.
    cvt(unsafe { libc::setresgid(gid, gid, gid) })?;
    // SAFETY: plain system call.
    cvt(unsafe { libc::setresuid(uid, uid, uid) }).map(drop)
}

/// Effective uid and gid of the calling process.
pub(crate) fn effective_ids() -> (libc::uid_t, libc::gid_t) {
    // SAFETY: these calls cannot fail.
    unsafe { (libc::geteuid(), libc::getegid()) }
}

/// Mark every descriptor from 3 up close-on-exec.
pub(crate) fn cloexec_from_3() -> io::Result<()> {
    // SAFETY: integer-only system call.
    cvt_long(unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3 as libc::c_uint,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    })
    .map(drop)
}

/// Close every descriptor except `keep`.
pub(crate) fn close_all_except(keep: RawFd) {
    let keep = keep as libc::c_uint;
    // SAFETY: integer-only system calls; descriptors closed here are not used afterwards by the
    // (single-threaded, about to `_exit`) caller.
    unsafe {
        if keep > 0 {
            libc::syscall(
                libc::SYS_close_range,
                0 as libc::c_uint,
                keep - 1,
                0 as libc::c_uint,
            );
        }
        libc::syscall(
            libc::SYS_close_range,
            keep + 1,
            libc::c_uint::MAX,
            0 as libc::c_uint,
        );
    }
}

/// Result of `fork`.
pub(crate) enum Forked {
    /// In the child.
    Child,
    /// In the parent, with the child's pid.
    Parent(libc::pid_t),
}

/// `fork(2)`.
///
/// Only called from the single-threaded intermediate process created by
/// [`std::process::Command::spawn`], inside a `pre_exec` hook.
pub(crate) fn fork() -> io::Result<Forked> {
    // SAFETY: the caller is single-threaded (a freshly forked child), so the usual
    // multi-threaded-fork hazards do not apply; both sides only run async-signal-safe code.
    let pid = cvt(unsafe { libc::fork() })?;
    Ok(if pid == 0 {
        Forked::Child
    } else {
        Forked::Parent(pid)
    })
}

/// `waitpid(2)` for `pid`, retrying on `EINTR`; returns the raw wait status.
pub(crate) fn waitpid(pid: libc::pid_t) -> io::Result<libc::c_int> {
    let mut status: libc::c_int = 0;
    loop {
        // SAFETY: `status` is a valid out-pointer.
        let ret = unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
        if ret >= 0 {
            return Ok(status);
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// `waitpid(-1)`: any child, retrying on `EINTR`; returns (pid, raw wait status).
pub(crate) fn wait_any() -> io::Result<(libc::pid_t, libc::c_int)> {
    let mut status: libc::c_int = 0;
    loop {
        // SAFETY: `status` is a valid out-pointer.
        let ret = unsafe { libc::waitpid(-1, &mut status, libc::__WALL) };
        if ret >= 0 {
            return Ok((ret, status));
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// `_exit(2)`: leave without running destructors or atexit handlers (required after fork).
pub(crate) fn exit_now(code: libc::c_int) -> ! {
    // SAFETY: `_exit` is always safe to call and never returns.
    unsafe { libc::_exit(code) }
}

/// `kill(2)`; errors (for instance an already reaped process) are ignored.
pub(crate) fn kill(pid: libc::pid_t, signal: libc::c_int) {
    if pid > 0 {
        // SAFETY: plain system call; `pid > 0` so this never targets a process group.
        unsafe { libc::kill(pid, signal) };
    }
}

/// Kill a process group (used in the no-sandbox fallback, where the child leads its own group).
pub(crate) fn kill_group(pgid: libc::pid_t, signal: libc::c_int) {
    if pgid > 1 {
        // SAFETY: plain system call on a group led by our own child.
        unsafe { libc::kill(-pgid, signal) };
    }
}

/// `setsid(2)`.
pub(crate) fn setsid() -> io::Result<()> {
    // SAFETY: plain system call.
    cvt(unsafe { libc::setsid() }).map(drop)
}

/// Bring the loopback interface up in the current network namespace.
pub(crate) fn loopback_up() -> io::Result<()> {
    // SAFETY: socket/ioctl/close on a descriptor we own; `ifreq` is zero-initialised and the
    // name fits in IFNAMSIZ.
    unsafe {
        let fd = cvt(libc::socket(
            libc::AF_INET,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            0,
        ))?;
        let mut request: libc::ifreq = std::mem::zeroed();
        for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo\0") {
            *slot = *byte as libc::c_char;
        }
        request.ifr_ifru.ifru_flags = (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        let result = cvt(libc::ioctl(fd, libc::SIOCSIFFLAGS, &request));
        libc::close(fd);
        result.map(drop)
    }
}

/// One `poll(2)` call over `fds` (events/revents updated in place).
pub(crate) fn poll(fds: &mut [libc::pollfd], timeout_ms: libc::c_int) -> io::Result<usize> {
    // SAFETY: the pointer and length describe a live, writable slice of pollfd.
    let ret = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
    if ret < 0 {
        let error = io::Error::last_os_error();
        if error.kind() == io::ErrorKind::Interrupted {
            return Ok(0);
        }
        return Err(error);
    }
    Ok(ret as usize)
}

/// `statvfs(2)` mount flags of the file system holding `path` (`ST_*` bits).
pub(crate) fn mount_flags_of(path: &CStr) -> io::Result<libc::c_ulong> {
    // SAFETY: zeroed statvfs is a valid out-buffer; valid NUL-terminated path.
    unsafe {
        let mut stat: libc::statvfs = std::mem::zeroed();
        cvt(libc::statvfs(path.as_ptr(), &mut stat))?;
        Ok(stat.f_flag)
    }
}

/// Register `hook` to run in the child between `fork` and `execve`.
///
/// The hook must only do async-signal-safe work: this crate's hooks only call the wrappers of
/// this module with data prepared before `spawn`.
pub(crate) fn set_pre_exec<F>(command: &mut std::process::Command, hook: F)
where
    F: FnMut() -> io::Result<()> + Send + Sync + 'static,
{
    use std::os::unix::process::CommandExt;
    // SAFETY: see the function documentation; the hooks of this crate neither allocate nor take
    // locks (all paths and buffers are prepared in the parent and captured by the closure).
    unsafe {
        command.pre_exec(hook);
    }
}

/// `socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC)`.
pub(crate) fn socketpair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` is a valid array of two ints.
    cvt(unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    })?;
    // SAFETY: both descriptors were just created and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Clear close-on-exec on `fd` (so the program inherits it).
pub(crate) fn clear_cloexec(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor the caller owns.
    cvt(unsafe { libc::fcntl(fd, libc::F_SETFD, 0) }).map(drop)
}

/// `getppid(2)`.
pub(crate) fn getppid() -> libc::pid_t {
    // SAFETY: cannot fail.
    unsafe { libc::getppid() }
}

/// `alarm(2)`: `SIGALRM` (whose default action ends the process) after `seconds`.
pub(crate) fn alarm(seconds: u32) {
    // SAFETY: plain system call.
    unsafe { libc::alarm(seconds) };
}

/// Overwrite `[start, end)` of this process's own memory with zeros (the argv and environment
/// strings of a forked copy of verity, so `/proc/<pid>/cmdline` and `environ` show nothing).
///
/// Only called in the forked namespace init, which never reads its arguments or environment.
pub(crate) fn wipe_range(start: usize, end: usize) {
    if start == 0 || end <= start || end - start > (64 << 20) {
        return;
    }
    // SAFETY: `[start, end)` is the argument (or environment) area the kernel reports for this
    // process in /proc/self/stat, read in the parent whose memory this forked process copies;
    // it lies in the initial stack, which is mapped and writable, and nothing in this process
    // reads it afterwards.
    unsafe { ptr::write_bytes(start as *mut u8, 0, end - start) };
}
