//! Linux: POSIX named semaphores where `sem_open` works, file-backed ones where the host cannot
//! hold them, chosen once per process; and the one semaphore type over both.
//!
//! **Creating.** A process creates with the backend it has chosen. Until it has chosen, it
//! tries `sem_open`: success settles POSIX. A failure that can be the host's (`ENOSYS`,
//! `ENOENT`, `EROFS`, `EACCES`, `EPERM`, `ENOSPC`: no `/dev/shm`, a read-only, forbidden or
//! full one, no `sem_open` at all) is checked with a probe, a semaphore of a fresh name created
//! and removed at once: if the probe fails for a host reason too, the process settles on files;
//! if it works, the first failure was that name's own (taken by another user, say) and is
//! returned, with POSIX settled. Any other error (`EEXIST`, `EMFILE`, ...) is returned and
//! settles nothing. A forked child inherits its parent's choice; a spawned one makes its own,
//! on the same host, the same way.
//!
//! **Forcing.** `MPRS_SEMAPHORES=posix` or `=file` skips the choice (`auto`, or unset, makes
//! it). Any other value makes every creation fail with a message saying so.
//!
//! **Finding.** Opening and unlinking by name look in both places, the chosen backend's first,
//! so a process finds what any other made, whichever backend that one chose; stock children
//! (`-E`) interoperate wherever POSIX semaphores work. When neither has the name, the error is
//! the chosen backend's: POSIX's (what stock would say) until files are chosen, unless POSIX
//! cannot work here at all (`ENOSYS`, `EROFS`), then the file backend's.

use std::io;
use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};
use std::sync::OnceLock;

use super::backend::{Backend, ReleaseCheck, Waited};
use super::deadline::Deadline;
use super::file::FileSemaphore;
use super::posix;
use crate::error::{Error, Result};

/// The environment variable that forces a backend: `posix`, `file` or `auto`.
pub const BACKEND_VARIABLE: &str = "MPRS_SEMAPHORES";

/// Where a process's semaphores live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SemaphoreBackend {
    /// POSIX named semaphores (`sem_open`, files in `/dev/shm`), shared with stock CPython.
    Posix,
    /// File-backed futex semaphores in the private directory ([`private_dir`](super::private_dir)).
    File,
}

const UNDECIDED: u8 = 0;
const POSIX: u8 = 1;
const FILE: u8 = 2;

static CHOSEN: AtomicU8 = AtomicU8::new(UNDECIDED);

fn encode(backend: SemaphoreBackend) -> u8 {
    match backend {
        SemaphoreBackend::Posix => POSIX,
        SemaphoreBackend::File => FILE,
    }
}

fn decode(code: u8) -> Option<SemaphoreBackend> {
    match code {
        POSIX => Some(SemaphoreBackend::Posix),
        FILE => Some(SemaphoreBackend::File),
        _ => None,
    }
}

/// What `MPRS_SEMAPHORES` says, read once: `Ok(None)` to choose.
fn forced() -> Result<Option<SemaphoreBackend>> {
    static FORCED: OnceLock<std::result::Result<Option<SemaphoreBackend>, String>> =
        OnceLock::new();
    let parsed = FORCED.get_or_init(|| {
        let value = std::env::var(BACKEND_VARIABLE).unwrap_or_default();
        match value.trim() {
            "" | "auto" => Ok(None),
            "posix" => Ok(Some(SemaphoreBackend::Posix)),
            "file" => Ok(Some(SemaphoreBackend::File)),
            other => Err(format!(
                "{BACKEND_VARIABLE}={other:?}: expected posix, file or auto"
            )),
        }
    });
    parsed
        .clone()
        .map_err(|message| Error::Os(io::Error::new(io::ErrorKind::InvalidInput, message)))
}

/// The backend this process creates with, if it is forced or chosen already.
fn settled() -> Result<Option<SemaphoreBackend>> {
    Ok(forced()?.or_else(|| decode(CHOSEN.load(Ordering::Relaxed))))
}

/// Records a choice; the first one made in this process stands, and is returned.
fn settle(backend: SemaphoreBackend) -> SemaphoreBackend {
    match CHOSEN.compare_exchange(
        UNDECIDED,
        encode(backend),
        Ordering::Relaxed,
        Ordering::Relaxed,
    ) {
        Ok(_) => backend,
        Err(earlier) => decode(earlier).unwrap_or(backend),
    }
}

/// Whether an error of `sem_open` can mean the host has no usable POSIX semaphores.
fn may_be_the_hosts(err: &Error) -> bool {
    matches!(
        errno(err),
        Some(libc::ENOSYS | libc::ENOENT | libc::EROFS | libc::EACCES | libc::EPERM | libc::ENOSPC)
    )
}

fn errno(err: &Error) -> Option<i32> {
    match err {
        Error::Os(io) => io.raw_os_error(),
        _ => None,
    }
}

/// What a failed first creation teaches, given `probe`, which creates and removes a semaphore
/// of a fresh name: `Some(backend)` to settle, `None` to settle nothing.
fn verdict(first: &Error, probe: impl FnOnce() -> Result<()>) -> Option<SemaphoreBackend> {
    if !may_be_the_hosts(first) {
        return None;
    }
    match probe() {
        Ok(()) => Some(SemaphoreBackend::Posix),
        Err(err) if may_be_the_hosts(&err) => Some(SemaphoreBackend::File),
        Err(_) => None,
    }
}

/// Creates and removes a POSIX semaphore of a name no one else uses.
fn probe_posix() -> Result<()> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("/mprs-probe-{}-{n}", std::process::id());
        match posix::RawSemaphore::create(&name, 0, 1) {
            Ok(sem) => {
                let _ = posix::RawSemaphore::unlink(&name);
                drop(sem);
                return Ok(());
            }
            Err(err) if errno(&err) == Some(libc::EEXIST) => continue,
            Err(err) => return Err(err),
        }
    }
}

/// The backend this process creates semaphores with, choosing it now (with a probe) if no
/// creation has chosen it yet.
pub fn semaphore_backend() -> Result<SemaphoreBackend> {
    if let Some(backend) = settled()? {
        return Ok(backend);
    }
    match probe_posix() {
        Ok(()) => Ok(settle(SemaphoreBackend::Posix)),
        Err(err) if may_be_the_hosts(&err) => Ok(settle(SemaphoreBackend::File)),
        Err(err) => Err(err),
    }
}

/// Runs `name`'s lookup in both backends, the chosen one first; the first success wins. See
/// the module docs for which error is returned when both fail.
fn in_either<T>(
    posix_op: impl FnOnce() -> Result<T>,
    file_op: impl FnOnce() -> Result<T>,
) -> Result<T> {
    let files_first = matches!(settled(), Ok(Some(SemaphoreBackend::File)));
    let both_failed = if files_first {
        first_success(file_op, posix_op).map_err(|(file_err, posix_err)| (posix_err, file_err))
    } else {
        first_success(posix_op, file_op)
    };
    both_failed.map_err(|(posix_err, file_err)| preferred_error(files_first, posix_err, file_err))
}

/// `first()`'s success, else `second()`'s; else both errors, in that order.
fn first_success<T>(
    first: impl FnOnce() -> Result<T>,
    second: impl FnOnce() -> Result<T>,
) -> std::result::Result<T, (Error, Error)> {
    first().or_else(|first_err| second().map_err(|second_err| (first_err, second_err)))
}

/// The file backend's error if this process creates files, else POSIX's, unless POSIX cannot
/// work on this host at all.
fn preferred_error(files_chosen: bool, posix_err: Error, file_err: Error) -> Error {
    match errno(&posix_err) {
        _ if files_chosen => file_err,
        Some(libc::ENOSYS | libc::EROFS) => file_err,
        _ => posix_err,
    }
}

/// The call on whichever backend's semaphore `this` (a [`RawSemaphore`]) holds, bound to
/// `sem`: one expression when both backends spell it alike, else POSIX's, then the file one's.
macro_rules! on_either {
    ($this:expr, $sem:ident => $body:expr) => {
        on_either!($this, $sem => $body, $body)
    };
    ($this:expr, $sem:ident => $posix:expr, $file:expr) => {
        match $this {
            RawSemaphore::Posix($sem) => $posix,
            RawSemaphore::File($sem) => $file,
        }
    };
}

/// One open semaphore of either backend.
#[derive(Debug)]
pub(crate) enum RawSemaphore {
    Posix(posix::RawSemaphore),
    File(FileSemaphore),
}

impl Backend for RawSemaphore {
    const SEM_VALUE_MAX: i32 = posix::RawSemaphore::SEM_VALUE_MAX;
    const RELEASE_CHECK: ReleaseCheck = ReleaseCheck::Value;

    fn create(name: &str, value: u32, maxvalue: i32) -> Result<Self> {
        let backend = match settled()? {
            Some(backend) => backend,
            None => match posix::RawSemaphore::create(name, value, maxvalue) {
                Ok(sem) => {
                    settle(SemaphoreBackend::Posix);
                    return Ok(RawSemaphore::Posix(sem));
                }
                Err(err) => match verdict(&err, probe_posix).map(settle) {
                    Some(SemaphoreBackend::File) => SemaphoreBackend::File,
                    _ => return Err(err),
                },
            },
        };
        match backend {
            SemaphoreBackend::Posix => {
                posix::RawSemaphore::create(name, value, maxvalue).map(RawSemaphore::Posix)
            }
            SemaphoreBackend::File => FileSemaphore::create(name, value).map(RawSemaphore::File),
        }
    }

    fn open(name: &str) -> Result<Self> {
        in_either(
            || posix::RawSemaphore::open(name).map(RawSemaphore::Posix),
            || FileSemaphore::open(name).map(RawSemaphore::File),
        )
    }

    fn handle(&self) -> usize {
        on_either!(self, sem => sem.handle())
    }

    #[inline]
    fn try_wait(&self) -> Result<bool> {
        // The file backend's cannot fail.
        on_either!(self, sem => sem.try_wait(), Ok(sem.try_wait()))
    }

    fn wait(&self, deadline: Option<Deadline>) -> Result<Waited> {
        on_either!(self, sem => sem.wait(deadline))
    }

    #[inline]
    fn post(&self) -> Result<()> {
        on_either!(self, sem => sem.post())
    }

    #[inline]
    fn value(&self) -> Result<i32> {
        // The file backend's cannot fail.
        on_either!(self, sem => sem.value(), Ok(sem.value()))
    }

    fn unlink(name: &str) -> Result<()> {
        in_either(
            || posix::RawSemaphore::unlink(name),
            || FileSemaphore::unlink(name),
        )
    }

    #[inline]
    fn current_thread_id() -> u64 {
        posix::RawSemaphore::current_thread_id()
    }

    fn deadline_after_secs(seconds: f64) -> Result<Deadline> {
        posix::RawSemaphore::deadline_after_secs(seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(errno: i32) -> Error {
        Error::Os(io::Error::from_raw_os_error(errno))
    }

    #[test]
    fn a_host_failure_confirmed_by_the_probe_chooses_files() {
        for errno in [
            libc::ENOSYS,
            libc::ENOENT,
            libc::EROFS,
            libc::EACCES,
            libc::EPERM,
            libc::ENOSPC,
        ] {
            assert_eq!(
                verdict(&os(errno), || Err(os(errno))),
                Some(SemaphoreBackend::File),
                "errno {errno}"
            );
        }
    }

    #[test]
    fn a_failure_of_one_name_alone_keeps_posix() {
        // EACCES on one name (another user's semaphore), while a fresh name works.
        assert_eq!(
            verdict(&os(libc::EACCES), || Ok(())),
            Some(SemaphoreBackend::Posix)
        );
    }

    #[test]
    fn other_errors_choose_nothing() {
        let probe_must_not_run = || -> Result<()> { panic!("no probe for this error") };
        for errno in [libc::EEXIST, libc::EMFILE, libc::EINVAL, libc::ENAMETOOLONG] {
            assert_eq!(
                verdict(&os(errno), probe_must_not_run),
                None,
                "errno {errno}"
            );
        }
        assert_eq!(verdict(&Error::Interrupted, probe_must_not_run), None);
        // The probe itself fails for a reason that is not the host's: nothing learnt.
        assert_eq!(verdict(&os(libc::EROFS), || Err(os(libc::EMFILE))), None);
    }

    #[test]
    fn a_missing_name_reports_what_stock_would_unless_posix_cannot_work() {
        let pick = |files, posix, file| errno(&preferred_error(files, os(posix), os(file)));
        // Until files are chosen: POSIX's, as stock, for a name that is not there or not ours.
        assert_eq!(pick(false, libc::ENOENT, libc::ENOENT), Some(libc::ENOENT));
        assert_eq!(pick(false, libc::EACCES, libc::ENOENT), Some(libc::EACCES));
        assert_eq!(pick(false, libc::ENOENT, libc::ELOOP), Some(libc::ENOENT));
        // ... but not "this host has no POSIX semaphores".
        assert_eq!(pick(false, libc::EROFS, libc::ENOENT), Some(libc::ENOENT));
        assert_eq!(pick(false, libc::ENOSYS, libc::ENOENT), Some(libc::ENOENT));
        // Once files are chosen, what the private directory says (a planted link, say).
        assert_eq!(pick(true, libc::ENOENT, libc::ELOOP), Some(libc::ELOOP));
        assert_eq!(pick(true, libc::EACCES, libc::ENOENT), Some(libc::ENOENT));
    }
}
