//! A second thread for work too short to hand to rayon: a single sample's matrix-vector
//! products take a few microseconds, while waking a sleeping pool thread from outside the
//! pool takes about as long.
//!
//! [`join`] runs its two closures on the calling thread and, when it is ready, on one
//! helper thread. After each job the helper polls for the next one for [`SPIN`] (as
//! OpenMP's and oneDNN's threads do between parallel regions), then sleeps. A call that
//! finds it asleep does both halves itself and leaves it asleep, unless the previous call
//! ended less than [`RECENT`] ago: a stream of calls wakes it, a lone call pays nothing.
//!
//! Off when rayon's pool (or the one installed) has a single thread, inside a rayon
//! worker (whose siblings are busy), inside a job already using the helper, or after
//! [`set_enabled`]`(false)`.

use core::cell::UnsafeCell;
use core::hint::spin_loop;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use std::boxed::Box;
use std::sync::OnceLock;
use std::thread::Thread;
use std::time::{Duration, Instant};

/// How long the helper polls for the next job before sleeping.
pub const SPIN: Duration = Duration::from_micros(200);
/// A call this soon after the previous one wakes a sleeping helper for the calls to come.
pub const RECENT: Duration = Duration::from_millis(1);

/// The start of a posted job; [`Job`] places it first.
struct Header {
    /// Runs the job's closure (`Job<F>`'s own `run_job::<F>`).
    run: unsafe fn(*const Header),
    /// Set (release) by the helper once the closure has returned or panicked.
    done: AtomicBool,
    /// The closure's panic, for the caller to resume.
    panic: UnsafeCell<Option<Box<dyn core::any::Any + Send>>>,
}

#[repr(C)]
struct Job<F> {
    header: Header,
    f: UnsafeCell<Option<F>>,
}

/// # Safety
/// `h` must point to the header of a live `Job<F>` whose closure nobody else takes.
unsafe fn run_job<F: FnOnce()>(h: *const Header) {
    // SAFETY: by the caller; `Job` is `repr(C)` with the header first.
    let f = unsafe { (*(*h.cast::<Job<F>>()).f.get()).take() };
    if let Some(f) = f {
        f();
    }
}

/// The posted job, if any: taken by exactly one of the helper (swapping in null) or the
/// caller (taking it back).
static SLOT: AtomicPtr<Header> = AtomicPtr::new(null_mut());
/// Held by the one caller that may post.
static OWNED: AtomicBool = AtomicBool::new(false);
/// Whether the helper is polling `SLOT` (false while it sleeps).
static POLLING: AtomicBool = AtomicBool::new(false);
/// Off switch ([`set_enabled`]).
static DISABLED: AtomicBool = AtomicBool::new(false);
/// When the last call ended, in nanoseconds since [`epoch`].
static LAST_END: AtomicU64 = AtomicU64::new(0);

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ns() -> u64 {
    epoch().elapsed().as_nanos() as u64
}

/// The helper thread's handle, started on first use (`None` if it could not be spawned).
fn helper() -> Option<&'static Thread> {
    static HELPER: OnceLock<Option<Thread>> = OnceLock::new();
    HELPER
        .get_or_init(|| {
            std::thread::Builder::new()
                .name("kerust-pair".into())
                .spawn(serve)
                .ok()
                .map(|h| h.thread().clone())
        })
        .as_ref()
}

/// The helper's loop: poll for [`SPIN`] after each job, then sleep until woken.
fn serve() {
    loop {
        POLLING.store(true, Ordering::SeqCst);
        let mut since = Instant::now();
        let mut polls = 0u32;
        loop {
            let p = SLOT.load(Ordering::Acquire);
            if !p.is_null()
                && SLOT
                    .compare_exchange(p, null_mut(), Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                // SAFETY: the caller keeps the job alive until `done`, and took it back
                // only if this exchange had failed.
                unsafe {
                    let r = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| ((*p).run)(p)));
                    if let Err(e) = r {
                        *(*p).panic.get() = Some(e);
                    }
                    (*p).done.store(true, Ordering::Release);
                }
                since = Instant::now();
                continue;
            }
            spin_loop();
            polls = polls.wrapping_add(1);
            if polls.is_multiple_of(64) && since.elapsed() > SPIN {
                break;
            }
        }
        POLLING.store(false, Ordering::SeqCst);
        // A job posted just before: callers take back what the helper does not take, so
        // sleeping now only costs that call its speed-up.
        std::thread::park();
    }
}

/// Turns the helper off (`false`) or back on (`true`, the default); with it off, [`join`]
/// runs both closures on the calling thread.
pub fn set_enabled(on: bool) {
    DISABLED.store(!on, Ordering::Relaxed);
}

fn usable() -> bool {
    !DISABLED.load(Ordering::Relaxed)
        && rayon::current_thread_index().is_none()
        && rayon::current_num_threads() > 1
}

/// Runs `a` and `b`, `a` on the helper thread when it is polling (else on this thread,
/// after `b`), and returns once both have. A panic in either is resumed here, after both
/// have ended.
///
/// Each closure must compute the same result wherever it runs: the caller cannot tell
/// which thread ran `a`.
pub fn join<A: FnOnce() + Send, B: FnOnce()>(a: A, b: B) {
    if !usable() || OWNED.swap(true, Ordering::Acquire) {
        let mine = std::panic::catch_unwind(core::panic::AssertUnwindSafe(b));
        let theirs = std::panic::catch_unwind(core::panic::AssertUnwindSafe(a));
        if let Err(e) = mine.and(theirs) {
            std::panic::resume_unwind(e);
        }
        return;
    }
    let job = Job {
        header: Header {
            run: run_job::<A>,
            done: AtomicBool::new(false),
            panic: UnsafeCell::new(None),
        },
        f: UnsafeCell::new(Some(a)),
    };
    let p = (&job.header as *const Header).cast_mut();
    let polling = POLLING.load(Ordering::SeqCst);
    if polling {
        SLOT.store(p, Ordering::Release);
    }
    // `b` must not unwind past the job while the helper may be running it.
    let mine = std::panic::catch_unwind(core::panic::AssertUnwindSafe(b));
    let theirs = if !polling
        || SLOT
            .compare_exchange(p, null_mut(), Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    {
        // Not taken: run it here.
        // SAFETY: the job is live and no longer posted.
        std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| unsafe { run_job::<A>(p) }))
    } else {
        while !job.header.done.load(Ordering::Acquire) {
            spin_loop();
        }
        // SAFETY: `done` (acquire) orders the helper's write of `panic` before this read.
        match unsafe { (*job.header.panic.get()).take() } {
            Some(e) => Err(e),
            None => Ok(()),
        }
    };
    let end = now_ns();
    let previous = LAST_END.swap(end, Ordering::Relaxed);
    if !polling && previous != 0 && end.saturating_sub(previous) < RECENT.as_nanos() as u64 {
        if let Some(t) = helper() {
            t.unpark();
        }
    } else if previous == 0 {
        // First call: start the helper, which polls for the calls to come.
        let _ = helper();
    }
    OWNED.store(false, Ordering::Release);
    if let Err(e) = mine.and(theirs) {
        std::panic::resume_unwind(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::vec::Vec;

    #[test]
    fn both_halves_run_once_and_results_land() {
        let mut out = [0u64; 2];
        for round in 0..2000u64 {
            let (x, y) = out.split_at_mut(1);
            join(|| x[0] = round * 3, || y[0] = round + 1);
            assert_eq!(out, [round * 3, round + 1]);
        }
    }

    #[test]
    fn the_helper_takes_jobs_from_a_stream_of_calls() {
        set_enabled(true);
        let here = std::thread::current().id();
        let mut elsewhere = 0;
        // Bounded in time, not calls: on a loaded machine the helper may wait for a core.
        let start = Instant::now();
        while elsewhere < 10 && start.elapsed() < Duration::from_secs(5) {
            let ran_on = std::sync::Mutex::new(None);
            join(
                || *ran_on.lock().unwrap() = Some(std::thread::current().id()),
                || (),
            );
            if ran_on.into_inner().unwrap() != Some(here) {
                elsewhere += 1;
            }
        }
        // Several threads' tests may share the helper; with more than one core some of
        // this thread's calls must find it polling.
        if rayon::current_num_threads() > 1 {
            assert!(elsewhere > 0, "the helper never ran a job");
        }
    }

    #[test]
    fn concurrent_callers_each_get_both_halves() {
        let total = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..1000 {
                        join(
                            || {
                                total.fetch_add(1, Ordering::Relaxed);
                            },
                            || {
                                total.fetch_add(1000, Ordering::Relaxed);
                            },
                        );
                    }
                });
            }
        });
        assert_eq!(total.load(Ordering::Relaxed), 4 * 1000 * 1001);
    }

    #[test]
    fn a_panic_in_either_half_reaches_the_caller_after_both_end() {
        for helper_half in [true, false] {
            let finished = AtomicBool::new(false);
            let r = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| {
                join(
                    || {
                        if helper_half {
                            panic!("a");
                        }
                        finished.store(true, Ordering::SeqCst);
                    },
                    || {
                        if !helper_half {
                            panic!("b");
                        }
                        finished.store(true, Ordering::SeqCst);
                    },
                )
            }));
            let msg = r.expect_err("the panic is resumed");
            let msg = msg.downcast_ref::<&str>().copied();
            assert_eq!(msg, Some(if helper_half { "a" } else { "b" }));
            assert!(finished.load(Ordering::SeqCst), "the other half ran to its end");
        }
        // The helper still serves afterwards.
        let mut v = Vec::new();
        join(|| (), || v.push(1));
        assert_eq!(v, [1]);
    }
}
