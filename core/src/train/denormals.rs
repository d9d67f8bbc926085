//! Flushing subnormal floats to zero while training, as XLA's and TensorFlow's CPU threads
//! do: once weights and gradients drift into the subnormal range, every operation on them
//! takes a slow microcode path (W1 runs about 15% faster with the flush, at the same test
//! accuracy; `benches/README.md`).

/// While alive, the calling thread and every thread of the current rayon pool flush
/// subnormal results and inputs to zero (x86-64 MXCSR bits FTZ and DAZ); dropping it
/// restores them. Does nothing on other architectures.
///
/// Each thread counts the guards that cover it: it starts flushing with the first and
/// returns to its own setting with the last. So `fit`s running at once on one pool keep
/// the flush until the last of them ends (one ending never switches it off under another),
/// and each thread ends with the FTZ and DAZ bits it had before the first.
pub(crate) struct FlushDenormals {
    active: bool,
    /// Dropped on the thread that made it (the counts are per thread).
    _here: core::marker::PhantomData<*const ()>,
}

impl FlushDenormals {
    /// Turns the flush on when `enabled`.
    pub(crate) fn on(enabled: bool) -> Self {
        let active = enabled && supported();
        if active {
            on_all(enter);
        }
        FlushDenormals {
            active,
            _here: core::marker::PhantomData,
        }
    }
}

impl Drop for FlushDenormals {
    fn drop(&mut self) {
        if self.active {
            on_all(leave);
        }
    }
}

std::thread_local! {
    /// This thread's live guards, and its flush bits before the first of them.
    static GUARDS: core::cell::Cell<(u32, u32)> = const { core::cell::Cell::new((0, 0)) };
}

/// A guard now covers this thread.
fn enter() {
    GUARDS.with(|g| {
        let (n, before) = g.get();
        if n == 0 {
            let before = bits();
            set_bits(BITS);
            g.set((1, before));
        } else {
            g.set((n + 1, before));
        }
    });
}

/// A guard covering this thread has ended.
fn leave() {
    GUARDS.with(|g| {
        let (n, before) = g.get();
        if n == 1 {
            set_bits(before);
        }
        g.set((n.saturating_sub(1), before));
    });
}

/// Runs `f` once on the calling thread and on every other thread of the current rayon
/// pool (the calling thread's own pool when it is one of its threads).
fn on_all(f: fn()) {
    #[cfg(feature = "parallel")]
    {
        if rayon::current_thread_index().is_none() {
            f();
        }
        rayon::broadcast(|_| f());
    }
    #[cfg(not(feature = "parallel"))]
    f();
}

/// FTZ (bit 15) and DAZ (bit 6) of MXCSR.
const BITS: u32 = 0x8040;

#[cfg(target_arch = "x86_64")]
fn supported() -> bool {
    true
}

/// This thread's FTZ and DAZ bits.
#[cfg(target_arch = "x86_64")]
#[allow(deprecated)] // `_mm_getcsr`/`_mm_setcsr`: still the way to reach MXCSR on stable.
fn bits() -> u32 {
    // SAFETY: reading MXCSR has no effect on memory; SSE is part of x86-64.
    unsafe { core::arch::x86_64::_mm_getcsr() & BITS }
}

/// Sets this thread's FTZ and DAZ bits to those of `b`.
#[cfg(target_arch = "x86_64")]
#[allow(deprecated)]
fn set_bits(b: u32) {
    // SAFETY: only the FTZ and DAZ bits change: they alter how subnormal floats round, never
    // memory, exceptions or the rounding mode.
    unsafe {
        let csr = core::arch::x86_64::_mm_getcsr();
        core::arch::x86_64::_mm_setcsr((csr & !BITS) | (b & BITS));
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn supported() -> bool {
    false
}

#[cfg(not(target_arch = "x86_64"))]
fn bits() -> u32 {
    0
}

#[cfg(not(target_arch = "x86_64"))]
fn set_bits(_b: u32) {}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use core::hint::black_box;

    /// Half the smallest normal float: subnormal, or zero when flushed.
    fn half_min() -> f32 {
        black_box(f32::MIN_POSITIVE) * black_box(0.5)
    }

    /// Runs `f` on a pool of two threads of its own (the other tests' guards cover the
    /// global pool's threads), as `fit` runs its loop on a pool thread.
    fn on_own_pool(f: impl FnOnce() + Send) {
        #[cfg(feature = "parallel")]
        rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap()
            .install(f);
        #[cfg(not(feature = "parallel"))]
        f();
    }

    /// Whether this thread, and every thread of the current pool, flush.
    fn everywhere() -> (bool, bool) {
        let here = half_min() == 0.0;
        #[cfg(feature = "parallel")]
        let pool = rayon::broadcast(|_| half_min());
        #[cfg(not(feature = "parallel"))]
        let pool = [half_min()];
        let flushed = pool.iter().filter(|&&v| v == 0.0).count();
        assert!(flushed == 0 || flushed == pool.len(), "{pool:?}");
        (here, flushed > 0)
    }

    #[test]
    fn subnormals_flush_inside_the_guard_and_not_after() {
        on_own_pool(|| {
            assert_eq!(everywhere(), (false, false));
            {
                let _guard = FlushDenormals::on(true);
                assert_eq!(everywhere(), (true, true));
            }
            assert_eq!(everywhere(), (false, false));
            let _off = FlushDenormals::on(false);
            assert_eq!(everywhere(), (false, false));
        });
    }

    #[test]
    fn overlapping_guards_keep_the_flush_until_the_last_ends() {
        // Two fits at once: the first to end must not switch the flush off under the other.
        on_own_pool(|| {
            let first = FlushDenormals::on(true);
            let second = FlushDenormals::on(true);
            drop(first);
            assert_eq!(everywhere(), (true, true));
            drop(second);
            assert_eq!(everywhere(), (false, false));
        });
    }

    #[test]
    fn a_thread_keeps_the_flush_bits_it_had() {
        on_own_pool(|| {
            // Both bits (the owner already flushes), then FTZ alone: each comes back as it was.
            for own in [BITS, 0x8000] {
                set_bits(own);
                drop(FlushDenormals::on(true));
                assert_eq!(bits(), own);
            }
            set_bits(0);
            assert!(half_min() > 0.0);
        });
    }
}
