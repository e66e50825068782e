//! What the Windows backend makes of Win32 numbers: pure functions, compiled on Windows and for
//! the unit tests everywhere, so that Linux tests cover them. `windows.rs` only makes the calls
//! and hands their results here; it also checks at compile time that the constants below equal
//! `windows-sys`'s.

use std::io;

use super::backend::Waited;
use crate::error::{Error, Result};

/// `WaitForSingleObjectEx`: the object was signalled (a unit was taken).
pub(crate) const WAIT_OBJECT_0: u32 = 0;
/// `WaitForSingleObjectEx`: the timeout elapsed.
pub(crate) const WAIT_TIMEOUT: u32 = 258;
/// `WaitForSingleObjectEx`: the call failed; `GetLastError` says why.
pub(crate) const WAIT_FAILED: u32 = 0xFFFF_FFFF;
/// The "no timeout" value of the wait functions.
pub(crate) const INFINITE: u32 = 0xFFFF_FFFF;
/// `ReleaseSemaphore` would take the count above the maximum given at creation.
pub(crate) const ERROR_TOO_MANY_POSTS: u32 = 298;

/// `acquire(timeout=seconds)` in milliseconds, as stock Windows computes it: negative means 0,
/// `seconds * 1000 >= INFINITE / 2` (about 24.8 days) is [`Error::TimeoutTooLarge`], and the
/// rest rounds half up (`(DWORD)(ms + 0.5)`). NaN passes both of stock's tests and converts to
/// 0 with MSVC on x64, so it means 0 here too.
pub(crate) fn timeout_millis(seconds: f64) -> Result<u32> {
    let ms = seconds * 1000.0;
    if ms.is_nan() || ms < 0.0 {
        return Ok(0);
    }
    if ms >= 0.5 * f64::from(INFINITE) {
        return Err(Error::TimeoutTooLarge);
    }
    // In range: 0 <= ms + 0.5 < 2^31.
    Ok((ms + 0.5) as u32)
}

/// The result of a zero-timeout `WaitForSingleObjectEx`: whether a unit was taken.
/// `last_error` is asked only for `WAIT_FAILED`.
pub(crate) fn try_wait_result(rc: u32, last_error: impl FnOnce() -> io::Error) -> Result<bool> {
    match rc {
        WAIT_OBJECT_0 => Ok(true),
        WAIT_TIMEOUT => Ok(false),
        WAIT_FAILED => Err(Error::Os(last_error())),
        other => Err(Error::UnrecognizedWaitResult(other)),
    }
}

/// The result of one slice of a blocking wait. A timeout ends the whole wait only if the slice
/// ran `to_deadline` (see `schedule::win_slice`); otherwise it is [`Waited::NotYet`].
pub(crate) fn wait_result(
    rc: u32,
    to_deadline: bool,
    last_error: impl FnOnce() -> io::Error,
) -> Result<Waited> {
    match rc {
        WAIT_OBJECT_0 => Ok(Waited::Acquired),
        WAIT_TIMEOUT if to_deadline => Ok(Waited::TimedOut),
        WAIT_TIMEOUT => Ok(Waited::NotYet),
        WAIT_FAILED => Err(Error::Os(last_error())),
        other => Err(Error::UnrecognizedWaitResult(other)),
    }
}

/// The error of a failed `ReleaseSemaphore`, from `GetLastError()`: going past the maximum is
/// CPython's "released too many times", for every `maxvalue`; anything else is an OS error.
pub(crate) fn release_error(code: u32) -> Error {
    if code == ERROR_TOO_MANY_POSTS {
        Error::ReleasedTooManyTimes
    } else {
        Error::Os(io::Error::from_raw_os_error(code as i32))
    }
}

/// `_get_value` on Windows: after a zero-timeout wait took a unit, `ReleaseSemaphore` gave it
/// back and reported the count before the release, so the value is one more; if the wait
/// found nothing, the value is 0.
pub(crate) fn value_from(taken: bool, previous: i32) -> i32 {
    if taken {
        previous.saturating_add(1)
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unused() -> io::Error {
        panic!("GetLastError asked for a result that is not WAIT_FAILED")
    }

    fn access_denied() -> io::Error {
        io::Error::from_raw_os_error(5)
    }

    #[test]
    fn timeouts_convert_like_stock_windows() {
        assert_eq!(timeout_millis(0.0).unwrap(), 0);
        assert_eq!(timeout_millis(-1.0).unwrap(), 0, "negative means now");
        assert_eq!(timeout_millis(f64::NEG_INFINITY).unwrap(), 0);
        assert_eq!(timeout_millis(f64::NAN).unwrap(), 0);
        assert_eq!(timeout_millis(0.0004).unwrap(), 0);
        assert_eq!(timeout_millis(0.0005).unwrap(), 1, "half a ms rounds up");
        assert_eq!(timeout_millis(0.2).unwrap(), 200);
        assert_eq!(timeout_millis(1.2345).unwrap(), 1235);
        assert_eq!(timeout_millis(2_147_483.647).unwrap(), 2_147_483_647);
    }

    #[test]
    fn timeouts_of_half_infinite_or_more_are_too_large() {
        // 0.5 * INFINITE ms = 2147483.6475 s: the first value refused.
        assert_eq!(timeout_millis(2_147_483.647_4).unwrap(), 2_147_483_647);
        for secs in [2_147_483.647_5, 2_147_483.648, 1e10, f64::INFINITY] {
            assert!(
                matches!(timeout_millis(secs), Err(Error::TimeoutTooLarge)),
                "{secs}"
            );
        }
    }

    #[test]
    fn try_wait_results_map() {
        assert!(try_wait_result(WAIT_OBJECT_0, unused).unwrap());
        assert!(!try_wait_result(WAIT_TIMEOUT, unused).unwrap());
        match try_wait_result(WAIT_FAILED, access_denied) {
            Err(Error::Os(e)) => assert_eq!(e.raw_os_error(), Some(5)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            try_wait_result(0x80, unused),
            Err(Error::UnrecognizedWaitResult(0x80))
        ));
    }

    #[test]
    fn wait_results_map() {
        assert_eq!(
            wait_result(WAIT_OBJECT_0, false, unused).unwrap(),
            Waited::Acquired
        );
        assert_eq!(
            wait_result(WAIT_TIMEOUT, true, unused).unwrap(),
            Waited::TimedOut
        );
        assert_eq!(
            wait_result(WAIT_TIMEOUT, false, unused).unwrap(),
            Waited::NotYet,
            "the end of a slice is not the end of the wait"
        );
        assert!(matches!(
            wait_result(WAIT_FAILED, true, access_denied),
            Err(Error::Os(e)) if e.raw_os_error() == Some(5)
        ));
        assert!(matches!(
            wait_result(WAIT_OBJECT_0 + 1, false, unused),
            Err(Error::UnrecognizedWaitResult(1))
        ));
        assert!(matches!(
            wait_result(0x80, false, unused),
            Err(Error::UnrecognizedWaitResult(128))
        ));
    }

    #[test]
    fn too_many_posts_is_released_too_many_times() {
        assert!(matches!(
            release_error(ERROR_TOO_MANY_POSTS),
            Error::ReleasedTooManyTimes
        ));
        assert_eq!(
            release_error(ERROR_TOO_MANY_POSTS).to_string(),
            "semaphore or lock released too many times"
        );
        match release_error(6) {
            Error::Os(e) => assert_eq!(e.raw_os_error(), Some(6)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_value_is_the_previous_count_plus_the_unit_taken() {
        assert_eq!(value_from(false, 0), 0);
        assert_eq!(value_from(true, 0), 1);
        assert_eq!(value_from(true, 41), 42);
        assert_eq!(value_from(true, i32::MAX), i32::MAX);
    }
}
