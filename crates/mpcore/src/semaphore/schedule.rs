//! How long each step of a wait lasts, on the platforms whose waits hand control back between
//! steps: pure arithmetic, shared by the backends and unit-tested on Linux.
//!
//! * **macOS** has no `sem_timedwait`. Stock CPython polls instead (`sem_timedwait_save`):
//!   `sem_trywait`, then a sleep of 0, 1, 2, ... ms growing by 1 ms per step up to 20 ms and
//!   never past the deadline, with a signal check after every sleep. Our polling wait takes one
//!   such step per call and returns `Waited::NotYet`; the caller checks signals and calls again
//!   with the same deadline. The step is not counted anywhere: it is read back from how long ago
//!   the deadline was made ([`poll_delay`]), so the schedule survives the round trips through
//!   the caller without any state.
//! * **Windows** waits in the kernel, but in bounded slices of at most `SLICE_MS` so that
//!   Ctrl-C reaches Python's handlers (see `windows.rs` for why slices and not an event).
//!
//! Each part is compiled for its platform, and everywhere for the unit tests.

use std::time::Duration;

#[cfg(any(target_vendor = "apple", test))]
use super::backend::Waited;
#[cfg(any(target_vendor = "apple", test))]
use super::deadline::Deadline;
#[cfg(any(target_vendor = "apple", test))]
use crate::error::Result;

/// How much longer each polling sleep is than the one before (stock: 1000 µs).
#[cfg(any(target_vendor = "apple", test))]
pub(crate) const POLL_GROWTH: Duration = Duration::from_millis(1);

/// The longest polling sleep (stock: 20000 µs).
#[cfg(any(target_vendor = "apple", test))]
pub(crate) const POLL_MAX: Duration = Duration::from_millis(20);

/// The sleep of polling step `step` (0, 1, 2, ...) with `remaining` left before the deadline:
/// `step` ms, at most 20 ms, and never beyond the deadline.
#[cfg(any(target_vendor = "apple", test))]
pub(crate) fn poll_step_delay(step: u32, remaining: Duration) -> Duration {
    POLL_GROWTH
        .saturating_mul(step)
        .min(POLL_MAX)
        .min(remaining)
}

/// The polling step a wait has reached `age` after it began.
///
/// Steps 0, 1, ..., k-1 sleep 0 + 1 + ... + (k-1) = k(k-1)/2 ms in all, so step k begins once
/// that much time has gone by: the answer is the largest such k. Time spent outside the sleeps
/// (the polls themselves, the caller's signal checks) only moves the schedule on a little
/// sooner, as it does in stock's loop. Past step 20 the sleep no longer grows, so the count
/// stops there.
#[cfg(any(target_vendor = "apple", test))]
pub(crate) fn poll_step_at(age: Duration) -> u32 {
    let max_step = (POLL_MAX.as_nanos() / POLL_GROWTH.as_nanos()) as u32;
    let growth = POLL_GROWTH.as_nanos();
    let age = age.as_nanos();
    let mut step = 0;
    while step < max_step {
        let next = step + 1;
        // Total sleep before step `next`: next*(next-1)/2 growth units.
        let slept_before_next = u128::from(next) * u128::from(next - 1) / 2 * growth;
        if slept_before_next > age {
            break;
        }
        step = next;
    }
    step
}

/// How long a polling wait sleeps before its next poll, `age` after the deadline was made and
/// with `remaining` left: stock's schedule, read from the clock instead of a counter.
#[cfg(any(target_vendor = "apple", test))]
pub(crate) fn poll_delay(age: Duration, remaining: Duration) -> Duration {
    poll_step_delay(poll_step_at(age), remaining)
}

/// The longest single kernel wait on Windows, in milliseconds: how late a Ctrl-C (or any
/// Python signal handler) can be noticed by a thread blocked in `acquire`.
/// One step of a polling wait, macOS's stand-in for `sem_timedwait`: `try_wait`; if that
/// took nothing and the deadline has not passed at `now()`, `sleep` this step's delay and
/// report [`Waited::NotYet`], so the caller can check signals before calling again with the
/// same deadline. A signal during the sleep is the sleep's `Err(Interrupted)`.
///
/// The clock and the sleep are parameters so that tests can drive the step with a fake clock.
#[cfg(any(target_vendor = "apple", test))]
pub(crate) fn poll_step(
    deadline: Deadline,
    try_wait: impl FnOnce() -> Result<bool>,
    now: impl FnOnce() -> Deadline,
    sleep: impl FnOnce(Duration) -> Result<()>,
) -> Result<Waited> {
    if try_wait()? {
        return Ok(Waited::Acquired);
    }
    let now = now();
    let remaining = deadline.remaining_from(now);
    if remaining.is_zero() {
        return Ok(Waited::TimedOut);
    }
    sleep(poll_delay(deadline.age_at(now), remaining))?;
    Ok(Waited::NotYet)
}

#[cfg(any(windows, test))]
pub(crate) const SLICE_MS: u32 = 50;

/// A duration in whole milliseconds, rounded as stock Windows rounds a timeout,
/// `(DWORD)(ms + 0.5)`: half a millisecond or more rounds up. Saturates below `INFINITE`, so
/// the result never means "forever".
#[cfg(any(windows, test))]
pub(crate) fn round_millis(d: Duration) -> u32 {
    let ms = (d.as_nanos() + 500_000) / 1_000_000;
    u32::try_from(ms).unwrap_or(u32::MAX - 1).min(u32::MAX - 1)
}

/// The next kernel wait on Windows: how many milliseconds, and whether that wait runs all the
/// way to the deadline (so that its timeout means the deadline passed, not just the slice).
/// `remaining == None` is a wait without deadline: slices forever.
#[cfg(any(windows, test))]
pub(crate) fn win_slice(remaining: Option<Duration>) -> (u32, bool) {
    match remaining.map(round_millis) {
        Some(ms) if ms <= SLICE_MS => (ms, true),
        _ => (SLICE_MS, false),
    }
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};

    use super::*;
    use crate::error::Error;

    const MS: Duration = Duration::from_millis(1);
    const LONG: Duration = Duration::from_secs(3600);

    #[test]
    fn the_step_sleeps_grow_by_one_ms_up_to_twenty() {
        let sleeps: Vec<u64> = (0..25)
            .map(|step| poll_step_delay(step, LONG).as_millis() as u64)
            .collect();
        let expected: Vec<u64> = (0..25).map(|step| step.min(20)).collect();
        assert_eq!(sleeps, expected);
        assert_eq!(poll_step_delay(u32::MAX, LONG), POLL_MAX, "no overflow");
    }

    #[test]
    fn a_step_never_sleeps_past_the_deadline() {
        assert_eq!(poll_step_delay(15, 3 * MS), 3 * MS);
        assert_eq!(
            poll_step_delay(40, Duration::from_micros(2500)),
            Duration::from_micros(2500)
        );
        assert_eq!(poll_step_delay(7, Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn the_step_is_read_back_from_the_age() {
        // Step k begins after k(k-1)/2 ms: 0, 0, 1, 3, 6, 10, ...
        assert_eq!(poll_step_at(Duration::ZERO), 1);
        assert_eq!(poll_step_at(Duration::from_micros(999)), 1);
        assert_eq!(poll_step_at(MS), 2);
        assert_eq!(poll_step_at(3 * MS - Duration::from_nanos(1)), 2);
        assert_eq!(poll_step_at(3 * MS), 3);
        assert_eq!(poll_step_at(6 * MS), 4);
        assert_eq!(poll_step_at(190 * MS), 20);
        assert_eq!(poll_step_at(Duration::from_secs(86_400)), 20);
        assert_eq!(poll_step_at(Duration::MAX), 20);
    }

    /// Simulates a polling wait driven the way the binding drives it: one step per call, each
    /// call reading its step from the deadline's age, with `overhead` spent between the steps.
    fn simulate(total: Duration, overhead: Duration) -> Vec<Duration> {
        let mut age = Duration::ZERO;
        let mut sleeps = Vec::new();
        while age < total {
            let sleep = poll_delay(age, total - age);
            sleeps.push(sleep);
            age += sleep + overhead;
        }
        sleeps
    }

    #[test]
    fn driven_call_by_call_the_schedule_is_stocks() {
        let sleeps = simulate(Duration::from_millis(300), Duration::ZERO);
        let ms: Vec<u128> = sleeps.iter().map(Duration::as_millis).collect();
        // Stock: 0, 1, 2, ..., 20, 20, ... (its 0 ms step is a poll without sleep, which the
        // first call is), the last one cut to what is left.
        let mut expected: Vec<u128> = (1..=20).collect();
        let mut left = 300 - expected.iter().sum::<u128>();
        while left > 0 {
            expected.push(left.min(20));
            left -= left.min(20);
        }
        assert_eq!(ms, expected);
        assert_eq!(sleeps.iter().sum::<Duration>(), Duration::from_millis(300));
    }

    #[test]
    fn overhead_between_steps_does_not_skip_steps() {
        // 200 µs of poll and signal-check work per step: still one more ms per step.
        let sleeps = simulate(Duration::from_millis(100), Duration::from_micros(200));
        let ms: Vec<u128> = sleeps.iter().take(10).map(Duration::as_millis).collect();
        assert_eq!(ms, (1..=10).collect::<Vec<u128>>());
    }

    #[test]
    fn milliseconds_round_half_up_like_stock() {
        assert_eq!(round_millis(Duration::ZERO), 0);
        assert_eq!(round_millis(Duration::from_micros(499)), 0);
        assert_eq!(round_millis(Duration::from_micros(500)), 1);
        assert_eq!(round_millis(Duration::from_micros(1499)), 1);
        assert_eq!(round_millis(Duration::from_micros(1500)), 2);
        assert_eq!(round_millis(Duration::from_secs(10)), 10_000);
        assert_eq!(round_millis(Duration::MAX), u32::MAX - 1, "never INFINITE");
    }

    #[test]
    fn windows_waits_are_sliced() {
        assert_eq!(win_slice(None), (SLICE_MS, false));
        assert_eq!(win_slice(Some(Duration::ZERO)), (0, true));
        assert_eq!(win_slice(Some(Duration::from_micros(400))), (0, true));
        assert_eq!(win_slice(Some(20 * MS)), (20, true));
        assert_eq!(win_slice(Some(50 * MS)), (50, true));
        assert_eq!(win_slice(Some(Duration::from_micros(50_400))), (50, true));
        assert_eq!(win_slice(Some(51 * MS)), (SLICE_MS, false));
        assert_eq!(win_slice(Some(Duration::MAX)), (SLICE_MS, false));
    }

    /// A semaphore that gets a unit at `available_at` (if ever), a clock that only sleeps move,
    /// and the binding's loop around [`poll_step`]: `Interrupted`/`NotYet` means "check
    /// signals, call again with the same deadline".
    struct Polled {
        start: Deadline,
        clock: Cell<Deadline>,
        available_at: Option<Duration>,
        sleeps: RefCell<Vec<Duration>>,
        signal_checks: Cell<u32>,
    }

    impl Polled {
        fn new(available_at: Option<Duration>) -> Self {
            let start = Deadline::now();
            Polled {
                start,
                clock: Cell::new(start),
                available_at,
                sleeps: RefCell::new(Vec::new()),
                signal_checks: Cell::new(0),
            }
        }

        fn elapsed(&self) -> Duration {
            self.clock.get().remaining_from(self.start)
        }

        fn step(&self, deadline: Deadline) -> Result<Waited> {
            poll_step(
                deadline,
                || Ok(self.available_at.is_some_and(|at| self.elapsed() >= at)),
                || self.clock.get(),
                |d| {
                    self.sleeps.borrow_mut().push(d);
                    self.clock.set(self.clock.get().saturating_add(d));
                    Ok(())
                },
            )
        }

        /// The binding's loop: returns whether the unit was taken.
        fn acquire(&self, timeout: Duration) -> Result<bool> {
            let deadline = self.start.saturating_add(timeout);
            loop {
                match self.step(deadline)? {
                    Waited::Acquired => return Ok(true),
                    Waited::TimedOut => return Ok(false),
                    Waited::NotYet => self.signal_checks.set(self.signal_checks.get() + 1),
                }
            }
        }
    }

    #[test]
    fn a_polling_wait_times_out_exactly_at_the_deadline() {
        let polled = Polled::new(None);
        assert!(!polled.acquire(Duration::from_millis(250)).unwrap());
        assert_eq!(polled.elapsed(), Duration::from_millis(250));
        let sleeps = polled.sleeps.borrow();
        let first: Vec<u128> = sleeps.iter().take(21).map(Duration::as_millis).collect();
        assert_eq!(first, (1..=20).chain([20]).collect::<Vec<u128>>());
        assert!(sleeps.iter().all(|d| *d <= POLL_MAX));
        assert_eq!(
            polled.signal_checks.get() as usize,
            sleeps.len(),
            "one signal check after every sleep, as stock"
        );
    }

    #[test]
    fn a_polling_wait_takes_the_unit_within_one_step_of_its_arrival() {
        let polled = Polled::new(Some(Duration::from_millis(100)));
        assert!(polled.acquire(Duration::from_secs(10)).unwrap());
        let late = polled.elapsed() - Duration::from_millis(100);
        assert!(late <= POLL_MAX, "noticed {late:?} late");
    }

    #[test]
    fn a_polling_wait_with_the_unit_there_does_not_sleep() {
        let polled = Polled::new(Some(Duration::ZERO));
        assert!(polled.acquire(Duration::from_secs(1)).unwrap());
        assert!(polled.sleeps.borrow().is_empty());
    }

    #[test]
    fn a_passed_deadline_polls_once_and_gives_up() {
        let polled = Polled::new(None);
        assert!(!polled.acquire(Duration::ZERO).unwrap());
        assert!(polled.sleeps.borrow().is_empty());
        assert_eq!(polled.signal_checks.get(), 0);
    }

    #[test]
    fn errors_of_the_poll_and_the_sleep_pass_through() {
        let deadline = Deadline::now().saturating_add(Duration::from_secs(1));
        let interrupted = poll_step(
            deadline,
            || Ok(false),
            Deadline::now,
            |_| Err(Error::Interrupted),
        );
        assert!(matches!(interrupted, Err(Error::Interrupted)));
        let failed = poll_step(
            deadline,
            || Err(Error::InvalidHandle),
            || unreachable!(),
            |_| unreachable!(),
        );
        assert!(matches!(failed, Err(Error::InvalidHandle)));
    }
}
