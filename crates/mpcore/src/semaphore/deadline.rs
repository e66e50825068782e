//! Absolute wall-clock deadlines for timed waits.
//!
//! CPython's `SemLock.acquire(timeout=t)` turns `t` into an absolute `CLOCK_REALTIME` instant
//! once, before the first wait, and every retry after a signal waits for that same instant. A
//! [`Deadline`] is that instant, so a retry never stretches the total wait.
//!
//! A deadline also remembers when it was made. Waits that poll (macOS has no `sem_timedwait`)
//! space their polls by the time elapsed since then, so a wait that hands control back after
//! each poll and is called again with the same deadline keeps stock's growing schedule without
//! any state of its own (see `schedule.rs`).

use std::cmp::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// An absolute point in wall-clock time (`CLOCK_REALTIME`), as `sem_timedwait` expects it.
///
/// Deadlines too far in the future to represent saturate to the largest representable instant,
/// which behaves as "wait forever". Two deadlines compare by their instant only.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    /// Time since the Unix epoch; negative instants are clamped to the epoch.
    since_epoch: Duration,
    /// When the deadline was made, since the Unix epoch: where a polling schedule starts.
    made: Duration,
}

impl PartialEq for Deadline {
    fn eq(&self, other: &Self) -> bool {
        self.since_epoch == other.since_epoch
    }
}

impl Eq for Deadline {}

impl PartialOrd for Deadline {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Deadline {
    fn cmp(&self, other: &Self) -> Ordering {
        self.since_epoch.cmp(&other.since_epoch)
    }
}

impl Deadline {
    /// The deadline `timeout` from now.
    pub fn after(timeout: Duration) -> Self {
        Self::now().saturating_add(timeout)
    }

    /// The deadline `seconds` from now, converted as CPython converts a float timeout: a
    /// negative value means "now". `None` when the instant cannot be represented as a `timespec`
    /// (NaN, infinity, or beyond `i64::MAX` seconds): stock CPython then fails the wait with
    /// `EINVAL`, and callers that mirror it do the same.
    pub fn after_secs_f64(seconds: f64) -> Option<Self> {
        if seconds.is_nan() {
            return None;
        }
        let timeout = Duration::try_from_secs_f64(seconds.max(0.0)).ok()?;
        let now = Self::now();
        let since_epoch = now.since_epoch.checked_add(timeout)?;
        (since_epoch <= Self::MAX_SINCE_EPOCH).then_some(Deadline {
            since_epoch,
            made: now.made,
        })
    }

    /// The current wall-clock time.
    pub fn now() -> Self {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        Deadline {
            since_epoch,
            made: since_epoch,
        }
    }

    /// The instant `d` after this one, saturating. The result counts as made when `self` was.
    pub fn saturating_add(self, d: Duration) -> Self {
        Deadline {
            since_epoch: self
                .since_epoch
                .saturating_add(d)
                .min(Self::MAX_SINCE_EPOCH),
            made: self.made,
        }
    }

    /// How long before `now` this deadline was made; zero if `now` is earlier (the wall clock
    /// went back).
    #[cfg(any(target_vendor = "apple", test))]
    pub(crate) fn age_at(self, now: Deadline) -> Duration {
        now.since_epoch.saturating_sub(self.made)
    }

    /// How long until the deadline, measured from `now`; zero once it has passed.
    pub fn remaining_from(self, now: Deadline) -> Duration {
        self.since_epoch.saturating_sub(now.since_epoch)
    }

    /// How long until the deadline from the current time; zero once it has passed.
    pub fn remaining(self) -> Duration {
        self.remaining_from(Self::now())
    }

    /// Whether the deadline has passed.
    pub fn has_passed(self) -> bool {
        self.remaining().is_zero()
    }

    /// Seconds and nanoseconds since the Unix epoch, the fields of a `timespec`.
    pub fn as_secs_nanos(self) -> (i64, u32) {
        // MAX_SINCE_EPOCH keeps the seconds within i64.
        (
            self.since_epoch.as_secs() as i64,
            self.since_epoch.subsec_nanos(),
        )
    }

    /// The latest representable deadline: `i64::MAX` seconds fits every `time_t` we target.
    const MAX_SINCE_EPOCH: Duration = Duration::from_secs(i64::MAX as u64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_and_zero_timeouts_are_due_now() {
        let before = Deadline::now();
        let d = Deadline::after_secs_f64(-1.0).unwrap();
        assert!(d >= before);
        assert!(d.remaining() <= Duration::from_millis(50));
        let zero = Deadline::after_secs_f64(0.0).unwrap();
        assert!(zero.remaining() <= Duration::from_millis(50));
        assert!(Deadline::after_secs_f64(f64::NEG_INFINITY).is_some());
    }

    #[test]
    fn unrepresentable_float_timeouts_have_no_deadline() {
        for secs in [1e300, f64::INFINITY, f64::NAN, 9.3e18] {
            assert_eq!(Deadline::after_secs_f64(secs), None, "{secs}");
        }
        assert!(Deadline::after_secs_f64(1e18).is_some());
    }

    #[test]
    fn huge_durations_saturate_to_never() {
        let d = Deadline::after(Duration::MAX);
        assert_eq!(d.as_secs_nanos().0, i64::MAX);
        assert!(!d.has_passed());
    }

    #[test]
    fn a_deadline_is_absolute_and_does_not_move() {
        let d = Deadline::after(Duration::from_millis(200));
        let first = d.remaining();
        std::thread::sleep(Duration::from_millis(50));
        let second = d.remaining();
        assert!(second < first, "{second:?} should be less than {first:?}");
        assert!(second <= Duration::from_millis(160));
    }

    #[test]
    fn a_deadline_knows_its_age_and_compares_by_instant_only() {
        let base = Deadline::now();
        let d = base.saturating_add(Duration::from_secs(5));
        let later = base.saturating_add(Duration::from_millis(7));
        assert_eq!(d.age_at(base), Duration::ZERO);
        assert_eq!(d.age_at(later), Duration::from_millis(7));
        assert_eq!(
            later.age_at(base),
            Duration::ZERO,
            "a clock that went back is age zero"
        );
        // Same instant, made at different times: equal.
        let same = Deadline {
            since_epoch: d.since_epoch,
            made: d.made + Duration::from_secs(1),
        };
        assert_eq!(same, d);
        assert!(later < d);
        let made_now = Deadline::after_secs_f64(1.0).unwrap();
        assert!(made_now.age_at(Deadline::now()) < Duration::from_secs(1));
    }

    #[test]
    fn remaining_from_is_plain_subtraction() {
        let base = Deadline::now();
        let d = base.saturating_add(Duration::from_millis(1500));
        assert_eq!(d.remaining_from(base), Duration::from_millis(1500));
        assert_eq!(base.remaining_from(d), Duration::ZERO);
        let (s, n) = d.as_secs_nanos();
        let (bs, bn) = base.as_secs_nanos();
        let total = (s - bs) as i128 * 1_000_000_000 + n as i128 - bn as i128;
        assert_eq!(total, 1_500_000_000);
    }
}
