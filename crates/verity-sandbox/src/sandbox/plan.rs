//! The file-system view of a sandbox, computed once in the parent.
//!
//! What it does: decides which host paths appear (read-only, at the same path) inside the new
//! root and turns everything into the `CString`s the child needs, so the child between `fork`
//! and `execve` only issues system calls.
//!
//! Known failure modes: a host path that is a mount point with locked child mounts is bound
//! recursively (child mounts keep their own flags, but remain read-only to the unprivileged uid
//! by permissions).

use super::sys;
use super::SandboxError;
use std::collections::BTreeSet;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// Host directories always visible read-only (when they exist).
const SYSTEM_DIRS: &[&str] = &[
    "/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin",
];
/// Host files always visible read-only (when they exist).
const SYSTEM_FILES: &[&str] = &[
    "/etc/ld.so.cache",
    "/etc/localtime",
    "/etc/ssl/certs/ca-certificates.crt",
];
/// Device nodes bound into `/dev`.
const DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
];

/// One bind mount.
pub(crate) struct Bind {
    /// Host path (canonical).
    pub source: CString,
    /// Target under the new root.
    pub target: CString,
    /// Target is a file (an empty file is created as the mount point) rather than a directory.
    pub is_file: bool,
    /// Flags for the read-only remount (locked flags of the source mount included).
    pub remount_flags: libc::c_ulong,
}

/// Everything the child needs to build the root, as C strings.
pub(crate) struct MountPlan {
    pub new_root: CString,
    /// Directories to create, parents first.
    pub dirs: Vec<CString>,
    /// (link target, link path) pairs.
    pub symlinks: Vec<(CString, CString)>,
    pub binds: Vec<Bind>,
    pub proc_dir: CString,
    /// `/dev/shm` under the new root (a small tmpfs of its own).
    pub shm_dir: CString,
    /// `/code` under the new root, as text (files are written there).
    pub code_prefix: String,
    pub scratch_dir: CString,
    pub old_root: CString,
    pub old_root_after_pivot: CString,
}

fn cstring(path: &Path) -> Result<CString, SandboxError> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| SandboxError::BadPath {
        path: path.to_path_buf(),
        reason: "contains a NUL byte",
    })
}

fn under(root: &Path, path: &Path) -> PathBuf {
    let relative = path.strip_prefix("/").unwrap_or(path);
    root.join(relative)
}

fn locked_flags(path: &CString) -> libc::c_ulong {
    // Remounting a bind mount in a user namespace must keep the flags the source mount has
    // (the kernel locks them); read them and carry them over.
    let Ok(flags) = sys::mount_flags_of(path) else {
        return 0;
    };
    let mut out = 0;
    for (st, ms) in [
        (libc::ST_NOSUID, libc::MS_NOSUID),
        (libc::ST_NODEV, libc::MS_NODEV),
        (libc::ST_NOEXEC, libc::MS_NOEXEC),
        (libc::ST_NOATIME, libc::MS_NOATIME),
        (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
        (libc::ST_RELATIME, libc::MS_RELATIME),
    ] {
        if flags & st != 0 {
            out |= ms;
        }
    }
    out
}

/// Normalise an absolute path lexically (no `..`, no `.`), refusing relative paths.
fn absolute(path: &Path) -> Result<PathBuf, SandboxError> {
    if !path.is_absolute() {
        return Err(SandboxError::BadPath {
            path: path.to_path_buf(),
            reason: "must be absolute",
        });
    }
    let mut out = PathBuf::from("/");
    for component in path.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    Ok(out)
}

impl MountPlan {
    /// Build the plan: system directories and files, device nodes, and `extra` read-only paths
    /// (the interpreter's prefix, user-allowed paths).
    ///
    /// `new_root` is an empty host directory owned by the sandbox: the root tmpfs is mounted on
    /// it inside the sandbox's private mount namespace (never visible on the host).
    pub(crate) fn new(new_root: &Path, extra: &[PathBuf]) -> Result<MountPlan, SandboxError> {
        let under_root = |path: &Path| under(new_root, path);
        let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
        let mut symlinks = Vec::new();
        let mut binds = Vec::new();
        let mut bound: Vec<PathBuf> = Vec::new();

        let add_parents = |path: &Path, dirs: &mut BTreeSet<PathBuf>| {
            let mut current = PathBuf::from("/");
            if let Some(parent) = path.parent() {
                for component in parent.components() {
                    if let Component::Normal(part) = component {
                        current.push(part);
                        dirs.insert(current.clone());
                    }
                }
            }
        };

        let mut candidates: Vec<(PathBuf, bool)> = Vec::new();
        for dir in SYSTEM_DIRS {
            candidates.push((PathBuf::from(dir), false));
        }
        for file in SYSTEM_FILES {
            candidates.push((PathBuf::from(file), false));
        }
        for path in extra {
            candidates.push((absolute(path)?, true));
        }

        for (path, required) in candidates {
            let metadata = match std::fs::symlink_metadata(&path) {
                Ok(metadata) => metadata,
                Err(source) if !required => {
                    let _ = source;
                    continue;
                }
                Err(source) => {
                    return Err(SandboxError::Io {
                        what: "cannot read a path to expose read-only in the sandbox",
                        path: path.clone(),
                        source,
                    })
                }
            };
            // Covered by a directory already bound (for instance /usr/lib/python3 under /usr).
            if bound.iter().any(|done| path.starts_with(done)) {
                continue;
            }
            if metadata.file_type().is_symlink() && SYSTEM_DIRS.iter().any(|d| Path::new(d) == path)
            {
                // Merged-/usr systems: /bin -> usr/bin. Recreate the link.
                let target = std::fs::read_link(&path).map_err(|source| SandboxError::Io {
                    what: "cannot read a symbolic link",
                    path: path.clone(),
                    source,
                })?;
                symlinks.push((cstring(&target)?, cstring(&under_root(&path))?));
                continue;
            }
            // Follow symlinks for everything else: bind what the path points to.
            let real = std::fs::canonicalize(&path).map_err(|source| SandboxError::Io {
                what: "cannot resolve a path to expose read-only in the sandbox",
                path: path.clone(),
                source,
            })?;
            let is_file = !real.is_dir();
            let c_path = cstring(&real)?;
            let remount_flags = libc::MS_BIND
                | libc::MS_REMOUNT
                | libc::MS_RDONLY
                | libc::MS_NOSUID
                | libc::MS_NODEV
                | locked_flags(&c_path);
            // Mount at the path the user named (so `/usr/bin/python3` works even when it is a
            // link), which for canonical paths is the same.
            add_parents(&path, &mut dirs);
            binds.push(Bind {
                source: c_path.clone(),
                target: cstring(&under_root(&path))?,
                is_file,
                remount_flags,
            });
            if !is_file {
                bound.push(path.clone());
            }
        }

        // Devices: bound read-write (writing /dev/null must work), no exec, no suid.
        dirs.insert(PathBuf::from("/dev"));
        for device in DEVICES {
            let path = Path::new(device);
            if !path.exists() {
                continue;
            }
            let c_path = cstring(path)?;
            binds.push(Bind {
                source: c_path.clone(),
                target: cstring(&under_root(path))?,
                is_file: true,
                remount_flags: libc::MS_BIND
                    | libc::MS_REMOUNT
                    | libc::MS_NOSUID
                    | libc::MS_NOEXEC
                    | locked_flags(&c_path),
            });
        }
        for (target, link) in [
            ("/proc/self/fd", "/dev/fd"),
            ("/proc/self/fd/0", "/dev/stdin"),
            ("/proc/self/fd/1", "/dev/stdout"),
            ("/proc/self/fd/2", "/dev/stderr"),
        ] {
            symlinks.push((
                cstring(Path::new(target))?,
                cstring(&under_root(Path::new(link)))?,
            ));
        }
        for dir in ["/code", "/proc", "/tmp", "/etc", "/dev/shm"] {
            dirs.insert(PathBuf::from(dir));
        }
        // BTreeSet order puts parents before children.
        let dirs = dirs
            .iter()
            .map(|dir| cstring(&under_root(dir)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(MountPlan {
            new_root: cstring(new_root)?,
            dirs,
            symlinks,
            binds,
            proc_dir: cstring(&under_root(Path::new("/proc")))?,
            shm_dir: cstring(&under_root(Path::new("/dev/shm")))?,
            code_prefix: under_root(Path::new("/code"))
                .to_string_lossy()
                .into_owned(),
            scratch_dir: cstring(&under_root(Path::new("/tmp")))?,
            old_root: cstring(&under_root(Path::new("/.old-root")))?,
            old_root_after_pivot: cstring(Path::new("/.old-root"))?,
        })
    }
}
