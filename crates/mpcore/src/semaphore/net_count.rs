//! The per-object count of acquires minus releases, kept exact at the lowest cost.
//!
//! An atomic read-modify-write (`lock xadd`) costs about as much as the whole uncontended
//! `sem_trywait`, and most locks never need one: when at most one unit exists
//! (`maxvalue == 1`: `Lock`, `RLock`, `BoundedSemaphore(1)`), only the thread holding that unit
//! changes the count, after its wait succeeded or before its post, so the semaphore itself
//! orders every update and plain loads and stores are exact. Semaphores with more units can
//! have several holders changing the count at once, and pay for atomic updates.
//! (A semaphore created with more units than a `maxvalue` of 1 is misuse; its count may then
//! lose updates, never memory safety.)

use std::sync::atomic::{AtomicI32, Ordering};

#[derive(Debug)]
pub(super) struct NetCount {
    value: AtomicI32,
    /// One holder at a time: updates are ordered by the semaphore (see the module docs).
    single_holder: bool,
}

impl NetCount {
    pub(super) fn new(maxvalue: i32) -> Self {
        NetCount {
            value: AtomicI32::new(0),
            single_holder: maxvalue <= 1,
        }
    }

    pub(super) fn get(&self) -> i32 {
        self.value.load(Ordering::Relaxed)
    }

    pub(super) fn add(&self, delta: i32) {
        if self.single_holder {
            let v = self.value.load(Ordering::Relaxed);
            self.value.store(v.wrapping_add(delta), Ordering::Relaxed);
        } else {
            self.value.fetch_add(delta, Ordering::Relaxed);
        }
    }

    pub(super) fn reset(&self) {
        self.value.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn counts_up_and_down_and_resets() {
        for maxvalue in [1, 5] {
            let c = NetCount::new(maxvalue);
            c.add(1);
            c.add(1);
            c.add(-1);
            assert_eq!(c.get(), 1);
            c.add(-3);
            assert_eq!(c.get(), -2, "a producer that only releases goes negative");
            c.reset();
            assert_eq!(c.get(), 0);
        }
    }

    #[test]
    fn many_holders_lose_no_update() {
        let c = Arc::new(NetCount::new(i32::MAX));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let c = Arc::clone(&c);
                std::thread::spawn(move || {
                    for _ in 0..100_000 {
                        c.add(1);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(c.get(), 400_000);
    }
}
