//! The private directory where named objects live when `/dev/shm` cannot hold them: the
//! file-backed semaphores, and the files of `SharedMemory`'s fallback.
//!
//! It plays the part of `/dev/shm`, with the same file names (`sem.NAME` for a semaphore
//! `/NAME`, `NAME` for shared memory `/NAME`), but it belongs to one user: created 0700, and
//! before every use opened without following a symbolic link and checked to be a directory
//! owned by this process's effective user with no access for group or others. Every file in it
//! is reached relative to that checked descriptor (`openat`, `O_NOFOLLOW`), so another user on
//! the host can neither read, pre-create nor redirect what we open. A directory that fails the
//! check is an error, never silently repaired or replaced.
//!
//! Where: `$MPRS_SEMAPHORE_DIR` if set (created if missing, checked like the default), else
//! `multiprocessing-rs-<euid>` in the temporary directory (`$TMPDIR` if it is an absolute path,
//! else `/tmp`). The path is read once per process; children inherit the environment, so they
//! find the same directory.

use std::ffi::CString;
use std::fs::{DirBuilder, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::file_sys;

/// The environment variable that names the directory instead of the default.
pub const DIRECTORY_VARIABLE: &str = "MPRS_SEMAPHORE_DIR";

/// The longest file name the directory takes (`NAME_MAX`); longer is `ENAMETOOLONG`.
const NAME_MAX: usize = 255;

/// The longest file name glibc's buffer for `"/dev/shm/" + prefix + name` holds
/// (`sizeof "/dev/shm/" + 4 + NAME_MAX`, less the directory and the NUL); longer is `EINVAL`.
const GLIBC_NAME_BUFFER: usize = NAME_MAX + 4;

/// The directory this process uses (whether or not it exists yet).
pub fn path() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(
        || match std::env::var_os(DIRECTORY_VARIABLE).filter(|dir| !dir.is_empty()) {
            Some(dir) => PathBuf::from(dir),
            None => default_path(),
        },
    )
}

fn default_path() -> PathBuf {
    let tmp = std::env::var_os("TMPDIR")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute())
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    tmp.join(format!("multiprocessing-rs-{}", file_sys::effective_uid()))
}

/// The file name an object named `name` has in the directory, `prefix` included (`"sem."` for
/// semaphores, `""` for shared memory), refused as glibc 2.36's `sem_open` and `shm_open` refuse
/// names: leading slashes are dropped; an empty name, one with a further slash, a NUL, or more
/// than glibc's buffer holds is `EINVAL`; one longer than `NAME_MAX` is `ENAMETOOLONG` (from the
/// kernel, there).
pub(crate) fn file_name(prefix: &str, name: &str) -> io::Result<CString> {
    let bare = name.trim_start_matches('/');
    let len = prefix.len() + bare.len();
    if bare.is_empty()
        || bare == "."
        || bare == ".."
        || bare.contains('/')
        || bare.contains('\0')
        || len > GLIBC_NAME_BUFFER
    {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    if len > NAME_MAX {
        return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
    }
    CString::new(format!("{prefix}{bare}")).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// The directory, opened and checked: every use of a file in it goes through one of these.
#[derive(Debug)]
pub(crate) struct PrivateDir {
    dir: File,
}

impl PrivateDir {
    /// Opens and checks the directory. With `create`, makes it first (mode 0700) if it does not
    /// exist; without, a missing directory is `ENOENT` (nothing in it can exist), so looking a
    /// name up never creates anything.
    pub(crate) fn open(create: bool) -> io::Result<Self> {
        let path = path();
        if create {
            match DirBuilder::new().mode(0o700).create(path) {
                Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
                _ => {}
            }
        }
        let dir = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
            .open(path)
            .map_err(|e| match e.raw_os_error() {
                // O_NOFOLLOW on a symbolic link, or O_DIRECTORY on something else.
                Some(libc::ELOOP) | Some(libc::ENOTDIR) => not_private(path, "not a directory"),
                _ => e,
            })?;
        let meta = dir.metadata()?;
        let uid = file_sys::effective_uid();
        if meta.uid() != uid {
            return Err(not_private(
                path,
                &format!("owned by uid {}, not {uid}", meta.uid()),
            ));
        }
        if meta.mode() & 0o077 != 0 {
            return Err(not_private(
                path,
                &format!("mode {:o} lets others in", meta.mode() & 0o777),
            ));
        }
        Ok(PrivateDir { dir })
    }

    /// Opens `name` in the directory (`openat` with `O_NOFOLLOW`), `mode` for a file it creates;
    /// refuses anything but a regular file of ours.
    pub(crate) fn open_file(&self, name: &CString, flags: i32, mode: u32) -> io::Result<File> {
        let file = file_sys::open_at(&self.dir, name, flags, mode)?;
        let meta = file.metadata()?;
        if !meta.is_file() || meta.uid() != file_sys::effective_uid() {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "{} is not a regular file of this user: refused",
                    path().join(name.to_string_lossy().as_ref()).display()
                ),
            ));
        }
        Ok(file)
    }

    /// Gives the file `from` the name `to` too: `EEXIST` if `to` exists.
    pub(crate) fn link(&self, from: &CString, to: &CString) -> io::Result<()> {
        file_sys::link_at(&self.dir, from, to)
    }

    /// Removes `name` from the directory.
    pub(crate) fn unlink(&self, name: &CString) -> io::Result<()> {
        file_sys::unlink_at(&self.dir, name)
    }
}

fn not_private(path: &Path, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!(
            "{} is not a private directory ({why}); remove it, or name another one in \
             {DIRECTORY_VARIABLE}",
            path.display()
        ),
    )
}

/// Opens (or with `O_CREAT`, creates) the shared memory object `name` in the private
/// directory: `shm_open(3)` with `/dev/shm` replaced by the private directory.
pub fn shm_open(name: &str, flags: i32, mode: u32) -> io::Result<File> {
    let file_name = file_name("", name)?;
    PrivateDir::open(flags & libc::O_CREAT != 0)?.open_file(&file_name, flags, mode)
}

/// Removes the shared memory object `name` from the private directory: `shm_unlink(3)` there.
pub fn shm_unlink(name: &str) -> io::Result<()> {
    let file_name = file_name("", name)?;
    PrivateDir::open(false)?.unlink(&file_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errno(result: io::Result<CString>) -> Option<i32> {
        result.err().and_then(|e| e.raw_os_error())
    }

    #[test]
    fn names_map_to_dev_shm_file_names() {
        assert_eq!(
            file_name("sem.", "/mp-abc").unwrap().to_str(),
            Ok("sem.mp-abc")
        );
        assert_eq!(file_name("", "//psm_1").unwrap().to_str(), Ok("psm_1"));
        assert_eq!(file_name("sem.", "bare").unwrap().to_str(), Ok("sem.bare"));
    }

    #[test]
    fn names_glibc_refuses_are_refused_with_its_errors() {
        for bad in ["", "/", "/a/b", "/.", "/..", "/a\0b"] {
            assert_eq!(errno(file_name("sem.", bad)), Some(libc::EINVAL), "{bad:?}");
        }
        // What stock's sem_open and shm_open answered on glibc 2.36, by length without the slash.
        let x = |n: usize| format!("/{}", "x".repeat(n));
        assert!(file_name("sem.", &x(251)).is_ok());
        assert_eq!(errno(file_name("sem.", &x(252))), Some(libc::ENAMETOOLONG));
        assert_eq!(errno(file_name("sem.", &x(255))), Some(libc::ENAMETOOLONG));
        assert_eq!(errno(file_name("sem.", &x(256))), Some(libc::EINVAL));
        assert!(file_name("", &x(255)).is_ok());
        assert_eq!(errno(file_name("", &x(256))), Some(libc::ENAMETOOLONG));
        assert_eq!(errno(file_name("", &x(300))), Some(libc::EINVAL));
    }
}
