//! The seccomp filter installed in every sandboxed process right before `execve`.
//!
//! What it does: a deny-list BPF program. Every system call that lets a process reach out of its
//! namespaces or attack the kernel is answered with `SECCOMP_RET_KILL_PROCESS`, so the offending
//! process dies with `SIGSYS` and the run is reported as a sandbox violation (instead of an
//! `EPERM` the candidate could swallow). `clone3` answers `ENOSYS` so the C library falls back to
//! `clone`, whose flags *can* be inspected (no new namespaces). `socket` is allowed for
//! `AF_UNIX` only (plus `AF_INET`/`AF_INET6` when loopback networking is enabled: the network
//! namespace is still empty, only `lo` is up).
//!
//! Why hand-written and not a filter compiler: the program is ~140 instructions, and a compiler
//! would not reject the x32 ABI (`nr | 0x4000_0000` on x86-64 shares the x86-64 audit arch), which
//! this filter does.
//!
//! Known failure modes: a deny list can miss a dangerous new system call; the namespaces, the
//! unprivileged uid and the absent capabilities remain the primary walls, seccomp is defence in
//! depth.

use libc::sock_filter;

/// Architecture check value (`AUDIT_ARCH_*`).
#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xC000_003E;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xC000_00B7;

const RET_KILL_PROCESS: u32 = 0x8000_0000;
const RET_ALLOW: u32 = 0x7fff_0000;
const RET_ERRNO: u32 = 0x0005_0000;

// Offsets in `struct seccomp_data`.
const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;
const OFF_ARG0_LOW: u32 = 16;

/// Namespace-creating clone flags.
const NAMESPACE_FLAGS: u32 = (libc::CLONE_NEWUSER
    | libc::CLONE_NEWNS
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWCGROUP) as u32;

/// System calls that kill the process when called inside the sandbox.
fn denied_syscalls() -> Vec<libc::c_long> {
    let mut list = vec![
        libc::SYS_ptrace,
        libc::SYS_process_vm_readv,
        libc::SYS_process_vm_writev,
        libc::SYS_mount,
        libc::SYS_umount2,
        libc::SYS_pivot_root,
        libc::SYS_chroot,
        libc::SYS_kexec_load,
        libc::SYS_kexec_file_load,
        libc::SYS_bpf,
        libc::SYS_keyctl,
        libc::SYS_add_key,
        libc::SYS_request_key,
        libc::SYS_unshare,
        libc::SYS_setns,
        libc::SYS_perf_event_open,
        libc::SYS_userfaultfd,
        libc::SYS_init_module,
        libc::SYS_finit_module,
        libc::SYS_delete_module,
        libc::SYS_reboot,
        libc::SYS_swapon,
        libc::SYS_swapoff,
        libc::SYS_syslog,
        libc::SYS_acct,
        libc::SYS_settimeofday,
        libc::SYS_clock_settime,
        libc::SYS_clock_adjtime,
        libc::SYS_adjtimex,
        libc::SYS_open_by_handle_at,
        libc::SYS_name_to_handle_at,
        libc::SYS_quotactl,
        libc::SYS_vhangup,
        libc::SYS_io_uring_setup,
        libc::SYS_io_uring_enter,
        libc::SYS_io_uring_register,
        libc::SYS_fsopen,
        libc::SYS_fsconfig,
        libc::SYS_fsmount,
        libc::SYS_fspick,
        libc::SYS_move_mount,
        libc::SYS_open_tree,
        libc::SYS_mount_setattr,
        libc::SYS_pidfd_getfd,
        libc::SYS_kcmp,
        libc::SYS_sethostname,
        libc::SYS_setdomainname,
    ];
    #[cfg(target_arch = "x86_64")]
    list.extend([
        libc::SYS_iopl,
        libc::SYS_ioperm,
        libc::SYS_uselib,
        libc::SYS_lookup_dcookie,
        libc::SYS_modify_ldt,
    ]);
    list
}

fn stmt(code: u32, k: u32) -> sock_filter {
    sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u32, k: u32, jt: u8, jf: u8) -> sock_filter {
    sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    }
}

const LD_ABS: u32 = libc::BPF_LD | libc::BPF_W | libc::BPF_ABS;
const JEQ: u32 = libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K;
const JGE: u32 = libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K;
const JSET: u32 = libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K;
const RET: u32 = libc::BPF_RET | libc::BPF_K;

/// Build the filter program. `allow_inet` additionally allows `AF_INET`/`AF_INET6` sockets.
/// With `inet_fails`, other socket families fail with `EACCES` instead of killing.
pub(crate) fn build_filter(allow_inet: bool, inet_fails: bool) -> Vec<sock_filter> {
    let mut prog = vec![
        // Wrong architecture (i386 int 0x80 on x86-64): kill.
        stmt(LD_ABS, OFF_ARCH),
        jump(JEQ, AUDIT_ARCH, 1, 0),
        stmt(RET, RET_KILL_PROCESS),
        stmt(LD_ABS, OFF_NR),
    ];
    #[cfg(target_arch = "x86_64")]
    {
        // x32 ABI system call numbers: kill.
        prog.push(jump(JGE, 0x4000_0000, 0, 1));
        prog.push(stmt(RET, RET_KILL_PROCESS));
    }
    for nr in denied_syscalls() {
        prog.push(jump(JEQ, nr as u32, 0, 1));
        prog.push(stmt(RET, RET_KILL_PROCESS));
    }
    // clone3: its flags live in memory the filter cannot read; make libc fall back to clone.
    prog.push(jump(JEQ, libc::SYS_clone3 as u32, 0, 1));
    prog.push(stmt(RET, RET_ERRNO | libc::ENOSYS as u32));
    // clone: no namespace flags. (x86-64 and aarch64 both pass flags in argument 0.)
    prog.push(jump(JEQ, libc::SYS_clone as u32, 0, 4));
    prog.push(stmt(LD_ABS, OFF_ARG0_LOW));
    prog.push(jump(JSET, NAMESPACE_FLAGS, 0, 1));
    prog.push(stmt(RET, RET_KILL_PROCESS));
    prog.push(stmt(RET, RET_ALLOW));
    // socket: AF_UNIX only (plus inet when loopback networking is allowed).
    let families: Vec<u32> = if allow_inet {
        vec![
            libc::AF_UNIX as u32,
            libc::AF_INET as u32,
            libc::AF_INET6 as u32,
        ]
    } else {
        vec![libc::AF_UNIX as u32]
    };
    let socket_block = 1 + 2 * families.len() + 1;
    prog.push(jump(JEQ, libc::SYS_socket as u32, 0, socket_block as u8));
    prog.push(stmt(LD_ABS, OFF_ARG0_LOW));
    for family in families {
        prog.push(jump(JEQ, family, 0, 1));
        prog.push(stmt(RET, RET_ALLOW));
    }
    prog.push(stmt(
        RET,
        if inet_fails {
            RET_ERRNO | libc::EACCES as u32
        } else {
            RET_KILL_PROCESS
        },
    ));
    prog.push(stmt(RET, RET_ALLOW));
    prog
}

/// Names of the system calls the filter kills on, for documentation and diagnostics.
pub fn denied_syscall_count() -> usize {
    denied_syscalls().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_fits_bpf_limits_and_ends_with_allow() {
        for (allow_inet, inet_fails) in [(false, false), (true, false), (false, true)] {
            let prog = build_filter(allow_inet, inet_fails);
            assert!(prog.len() < libc::BPF_MAXINSNS as usize);
            let last = prog.last().expect("non-empty program");
            assert_eq!(last.k, RET_ALLOW);
            // Every jump stays inside the program.
            for (index, insn) in prog.iter().enumerate() {
                if u32::from(insn.code) & 0x07 == libc::BPF_JMP {
                    assert!(index + 1 + (insn.jt.max(insn.jf) as usize) < prog.len());
                }
            }
        }
    }
}
