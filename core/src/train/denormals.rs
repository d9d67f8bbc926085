//! Flushing subnormal floats to zero while training, as XLA's and TensorFlow's CPU threads
//! do: once weights and gradients drift into the subnormal range, every operation on them
//! takes a slow microcode path (W1 runs about 15% faster with the flush, at the same test
//! accuracy; `benches/README.md`).

/// While alive, the calling thread and every thread of the current rayon pool flush
/// subnormal results and inputs to zero (x86-64 MXCSR bits FTZ and DAZ); dropping it
/// restores them. Does nothing on other architectures, or when the calling thread already
/// flushes.
pub(crate) struct FlushDenormals {
    active: bool,
}

impl FlushDenormals {
    /// Turns the flush on when `enabled`.
    pub(crate) fn on(enabled: bool) -> Self {
        let active = enabled && supported() && !flushing();
        if active {
            set_all(true);
        }
        FlushDenormals { active }
    }
}

impl Drop for FlushDenormals {
    fn drop(&mut self) {
        if self.active {
            set_all(false);
        }
    }
}

fn set_all(on: bool) {
    set_thread(on);
    #[cfg(feature = "parallel")]
    rayon::broadcast(|_| set_thread(on));
}

/// FTZ (bit 15) and DAZ (bit 6) of MXCSR.
#[cfg(target_arch = "x86_64")]
const BITS: u32 = 0x8040;

#[cfg(target_arch = "x86_64")]
fn supported() -> bool {
    true
}

#[cfg(target_arch = "x86_64")]
#[allow(deprecated)] // `_mm_getcsr`/`_mm_setcsr`: still the way to reach MXCSR on stable.
fn flushing() -> bool {
    // SAFETY: reading MXCSR has no effect on memory; SSE is part of x86-64.
    unsafe { core::arch::x86_64::_mm_getcsr() & BITS == BITS }
}

#[cfg(target_arch = "x86_64")]
#[allow(deprecated)]
fn set_thread(on: bool) {
    // SAFETY: only the FTZ and DAZ bits change: they alter how subnormal floats round, never
    // memory, exceptions or the rounding mode.
    unsafe {
        let csr = core::arch::x86_64::_mm_getcsr();
        core::arch::x86_64::_mm_setcsr(if on { csr | BITS } else { csr & !BITS });
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn supported() -> bool {
    false
}

#[cfg(not(target_arch = "x86_64"))]
fn flushing() -> bool {
    false
}

#[cfg(not(target_arch = "x86_64"))]
fn set_thread(_on: bool) {}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use core::hint::black_box;

    /// Half the smallest normal float: subnormal, or zero when flushed.
    fn half_min() -> f32 {
        black_box(f32::MIN_POSITIVE) * black_box(0.5)
    }

    #[test]
    fn subnormals_flush_inside_the_guard_and_not_after() {
        assert!(half_min() > 0.0);
        {
            let _guard = FlushDenormals::on(true);
            assert_eq!(half_min(), 0.0);
            #[cfg(feature = "parallel")]
            {
                let on_pool = rayon::broadcast(|_| half_min());
                assert!(on_pool.iter().all(|&v| v == 0.0), "{on_pool:?}");
            }
        }
        assert!(half_min() > 0.0);
        #[cfg(feature = "parallel")]
        assert!(rayon::broadcast(|_| half_min()).iter().all(|&v| v > 0.0));
        let _off = FlushDenormals::on(false);
        assert!(half_min() > 0.0);
    }
}
