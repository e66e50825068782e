//! For the tests that interrupt blocked calls: a no-op `SIGUSR1` handler installed without
//! `SA_RESTART`, so that the kernel fails a blocked call with `EINTR` instead of restarting it,
//! and a way to send that signal to one thread.

use std::os::unix::thread::JoinHandleExt;
use std::sync::Once;
use std::thread::JoinHandle;

extern "C" fn ignore_signal(_: libc::c_int) {}

/// Installs the handler, once per test binary.
pub fn install_handler_without_restart() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // SAFETY: a zeroed sigaction is a valid "no flags, empty mask" value, and the handler
        // is an async-signal-safe function that does nothing.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = ignore_signal as extern "C" fn(libc::c_int) as usize;
            action.sa_flags = 0;
            libc::sigemptyset(&mut action.sa_mask);
            assert_eq!(
                libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut()),
                0
            );
        }
    });
}

/// Sends `SIGUSR1` to `thread`, which must still be running.
pub fn interrupt<T>(thread: &JoinHandle<T>) {
    // SAFETY: the thread is alive (the callers' threads wait for them), and SIGUSR1 has a
    // handler (`install_handler_without_restart`).
    let rc = unsafe { libc::pthread_kill(thread.as_pthread_t(), libc::SIGUSR1) };
    assert_eq!(rc, 0);
}
