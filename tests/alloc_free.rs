//! Steady-state training steps: what they allocate.
//!
//! A separate test binary: it installs a counting global allocator. The tests take a lock,
//! so that no other test of the binary allocates while one measures.
//!
//! The training loop's own buffers (batch gathering, per-shard workspaces, gradients,
//! losses, optimizer slots) are reused from step to step. The GEMM behind `Dense`
//! (`matrixmultiply::sgemm`, used with the `alloc` feature) allocates a packing buffer on
//! every call, aligned to its SIMD kernel (16 bytes or more): those allocations are counted
//! apart, bounded here, and required to vanish by the ignored strict test.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use kerust::kernels::gemm::Op;
use kerust::prelude::*;
use kerust::train::Verbosity;

/// Counts allocations (and reallocations) while `COUNTING` is on: those of ordinary
/// alignment (at most 8 bytes: `Vec`, `Box`, `String`) apart from the over-aligned ones.
struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static PLAIN: AtomicUsize = AtomicUsize::new(0);
static OVER_ALIGNED: AtomicUsize = AtomicUsize::new(0);
/// `(size, align)` of the first plain allocations counted, for failure messages.
static SEEN: Mutex<[(usize, usize); 16]> = Mutex::new([(0, 0); 16]);

impl Counting {
    fn record(layout: Layout) {
        if !COUNTING.load(Ordering::Relaxed) {
            return;
        }
        if layout.align() > 8 {
            OVER_ALIGNED.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let i = PLAIN.fetch_add(1, Ordering::Relaxed);
        if i < 16 {
            if let Ok(mut seen) = SEEN.try_lock() {
                seen[i] = (layout.size(), layout.align());
            }
        }
    }
}

// SAFETY: forwards every call to the system allocator; the bookkeeping does not allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Self::record(layout);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Self::record(layout);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        Self::record(layout);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Held by each test: one measurement at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// What a measured call allocated.
#[derive(Debug)]
struct Counts {
    plain: usize,
    over_aligned: usize,
    first_plain: Vec<(usize, usize)>,
}

/// The allocations `f` makes (on every thread).
fn allocations(f: impl FnOnce()) -> Counts {
    PLAIN.store(0, Ordering::SeqCst);
    OVER_ALIGNED.store(0, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    f();
    COUNTING.store(false, Ordering::SeqCst);
    let plain = PLAIN.load(Ordering::SeqCst);
    Counts {
        plain,
        over_aligned: OVER_ALIGNED.load(Ordering::SeqCst),
        first_plain: SEEN.lock().unwrap()[..plain.min(16)].to_vec(),
    }
}

model! {
    struct Net: Input<16> {
        hidden: Dense(32, activation = relu),
        drop:   Dropout(0.25),
        out:    Dense(4),
    }
}

/// GEMM calls per training step of `Net`: two forward, three backward (both kernels'
/// gradients and the input gradient of `out`).
const GEMMS_PER_STEP: usize = 5;

/// `steps` batches of `batch` samples.
fn data(steps: usize, batch: usize) -> Dataset {
    let n = batch * steps;
    let mut rng = Rng::new(steps as u64);
    let x = (0..n * 16).map(|_| rng.uniform()).collect();
    let y = (0..n).map(|i| (i % 4) as u32).collect();
    Dataset::new(x, &[16], Target::Classes(y)).unwrap()
}

/// Allocations of one epoch of 10 steps and of one epoch of 40 steps, after a warm-up,
/// in batches of `batch` samples.
fn measure(batch: usize) -> (Counts, Counts) {
    let opts = || FitOptions {
        epochs: 1,
        batch_size: batch,
        verbose: Verbosity::Silent,
        ..Default::default()
    };
    let (short, long) = (data(10, batch), data(40, batch));
    let mut trainer = Net::new(0).compile(
        Adam::default(),
        SparseCategoricalCrossentropy::from_logits(),
        [Metric::Accuracy],
    );
    // Warm up: shard and batch buffers, optimizer slots.
    trainer.fit(&short, opts()).unwrap();
    trainer.fit(&long, opts()).unwrap();
    // What `fit` allocates per call or per epoch (the shuffle order, the history, the
    // epoch's logs) is the same for 10 steps and for 40.
    let c10 = allocations(|| assert_eq!(trainer.fit(&short, opts()).unwrap().logs.len(), 1));
    let c40 = allocations(|| assert_eq!(trainer.fit(&long, opts()).unwrap().logs.len(), 1));
    assert_eq!(trainer.optimizer().iterations(), 100);
    (c10, c40)
}

#[test]
fn the_training_loop_allocates_nothing_per_step() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Batches of 32 are one shard each, run by the thread that runs the loop.
    let (c10, c40) = two_thread_pool().install(|| measure(32));
    assert!(
        c40.plain <= c10.plain,
        "30 extra training steps made {} allocations: {c10:?} for 10 steps, {c40:?} for 40; \
         the first (size, align) for 40 steps: {:?}",
        c40.plain.saturating_sub(c10.plain),
        c40.first_plain,
    );
    assert!(c10.plain <= 16, "one epoch of 10 steps: {c10:?}");
    // Only GEMM packing buffers remain, at most one per GEMM call.
    let extra = c40.over_aligned.saturating_sub(c10.over_aligned);
    assert!(
        extra <= 30 * GEMMS_PER_STEP,
        "30 extra steps made {extra} over-aligned allocations"
    );

    // Batches of 128 are two shards, run by a 2-thread pool.
    let pool = two_thread_pool();
    let (c10, c40) = pool.install(|| measure(128));
    assert!(
        c40.plain <= c10.plain,
        "with 2 shards on 2 threads, 30 extra steps made {} allocations: {c10:?} for 10 steps, {c40:?} for 40",
        c40.plain.saturating_sub(c10.plain),
    );
    let extra = c40.over_aligned.saturating_sub(c10.over_aligned);
    assert!(
        extra <= 30 * 2 * GEMMS_PER_STEP,
        "{extra} over-aligned allocations"
    );
}

/// The strict form: no allocation at all per training step, GEMM included. Fails while
/// `kernels::gemm` calls `matrixmultiply::sgemm`, which allocates its packing buffers on
/// every call (5 allocations per step of this model).
#[test]
fn training_steps_allocate_nothing_at_all() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (c10, c40) = two_thread_pool().install(|| measure(32));
    assert_eq!(
        (c40.plain, c40.over_aligned),
        (c10.plain, c10.over_aligned),
        "30 extra steps allocated"
    );
}

include!("split_model.rs");

model! {
    struct Trunk: Input<16> {
        hidden: Dense(32, activation = relu),
        out:    Dense(6),
    }
}

// `Trunk` read as two outputs: 4 class logits and 2 values.
split_model!(
    TwoOut(Trunk),
    inputs = &[kerust::TensorInfo {
        name: "input",
        shape: &[16],
        offset: 0,
        len: 16
    }],
    outputs = &[
        kerust::TensorInfo {
            name: "digit",
            shape: &[4],
            offset: 0,
            len: 4
        },
        kerust::TensorInfo {
            name: "size",
            shape: &[2],
            offset: 4,
            len: 2
        },
    ]
);

/// [`measure`] for a model with two outputs, each with its loss, weight and metric, and
/// sample weights.
fn measure_two_outputs(batch: usize) -> (Counts, Counts) {
    let data = |steps: usize| {
        let n = batch * steps;
        let mut rng = Rng::new(steps as u64);
        let x: Vec<f32> = (0..n * 16).map(|_| rng.uniform()).collect();
        let y = Target::Multi(vec![
            Target::Classes((0..n).map(|i| (i % 4) as u32).collect()),
            Target::Values {
                data: (0..n * 2).map(|_| rng.uniform()).collect(),
                width: 2,
            },
        ]);
        let w: Vec<f32> = (0..n).map(|i| 0.5 + (i % 3) as f32).collect();
        (Dataset::from_inputs::<TwoOut>(&[&x], y).unwrap(), w)
    };
    let ((short, w10), (long, w40)) = (data(10), data(40));
    let opts = |w| FitOptions {
        epochs: 1,
        batch_size: batch,
        sample_weight: Some(w),
        verbose: Verbosity::Silent,
        ..Default::default()
    };
    let losses = kerust::train::PerOutput::new()
        .loss("digit", SparseCategoricalCrossentropy::from_logits())
        .loss("size", MeanSquaredError::new())
        .loss_weight("size", 0.5)
        .metrics("digit", [Metric::Accuracy])
        .metrics("size", [Metric::MeanAbsoluteError]);
    let mut model = kerust::params::boxed_zeroed::<TwoOut>();
    model.init_with(&mut Rng::new(0));
    let mut trainer = model.compile(Adam::default(), losses, []);
    trainer.fit(&short, opts(&w10)).unwrap();
    trainer.fit(&long, opts(&w40)).unwrap();
    let c10 = allocations(|| assert_eq!(trainer.fit(&short, opts(&w10)).unwrap().logs.len(), 1));
    let c40 = allocations(|| assert_eq!(trainer.fit(&long, opts(&w40)).unwrap().logs.len(), 1));
    assert_eq!(trainer.optimizer().iterations(), 100);
    (c10, c40)
}

#[test]
fn training_two_outputs_allocates_nothing_per_step() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (c10, c40) = two_thread_pool().install(|| measure_two_outputs(32));
    assert!(
        c40.plain <= c10.plain,
        "30 extra steps of a two-output model made {} allocations: {c10:?} for 10 steps, {c40:?} for 40",
        c40.plain.saturating_sub(c10.plain),
    );
    let extra = c40.over_aligned.saturating_sub(c10.over_aligned);
    assert!(extra <= 30 * GEMMS_PER_STEP, "{extra} over-aligned allocations");

    let pool = two_thread_pool();
    let (c10, c40) = pool.install(|| measure_two_outputs(128));
    assert!(
        c40.plain <= c10.plain,
        "with 2 shards, 30 extra steps of a two-output model made {} allocations: {c10:?}, {c40:?}",
        c40.plain.saturating_sub(c10.plain),
    );
}

model! {
    /// A residual block, nested twice below.
    pub struct AllocBlock {
        x = Input<16>;
        h = Dense(16, activation = relu)(x);
        r = Dense(16)(h);
        s = Add(x, r);
        outputs(s);
    }
}

model! {
    /// A functional model: nested blocks, a shared layer, a concatenation.
    struct Graph {
        x = Input<16>;
        a = Model(AllocBlock)(x);
        b = Model(AllocBlock)(a);
        shared: Dense(8, activation = tanh);
        p = shared(a);
        q = Dense(8)(b);
        j = Concatenate(p, q);
        out = Dense(4)(j);
        outputs(out);
    }
}

#[test]
fn functional_training_steps_allocate_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let opts = || FitOptions {
        epochs: 1,
        batch_size: 32,
        verbose: Verbosity::Silent,
        ..Default::default()
    };
    let (short, long) = (data(10, 32), data(40, 32));
    let mut trainer = Graph::new(0).compile(
        Adam::default(),
        SparseCategoricalCrossentropy::from_logits(),
        [Metric::Accuracy],
    );
    // Inside the pool `fit` runs on the calling thread: every measured fit on the same,
    // warmed-up thread (from outside, each fit's loop may land on either pool thread, and a
    // thread's first fit makes its thread-local buffers).
    let (c10, c40) = two_thread_pool().install(|| {
        trainer.fit(&short, opts()).unwrap();
        trainer.fit(&long, opts()).unwrap();
        let c10 = allocations(|| assert_eq!(trainer.fit(&short, opts()).unwrap().logs.len(), 1));
        let c40 = allocations(|| assert_eq!(trainer.fit(&long, opts()).unwrap().logs.len(), 1));
        (c10, c40)
    });
    assert_eq!(
        (c40.plain, c40.over_aligned),
        (c10.plain, c10.over_aligned),
        "30 extra steps of a functional model allocated"
    );
}

/// A 2-thread pool whose threads have each made their one-time GEMM packing buffer, so that
/// which thread first runs a shard (work stealing decides) cannot move that allocation into
/// a measured step.
fn two_thread_pool() -> rayon::ThreadPool {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    pool.broadcast(|_| {
        let (a, b) = ([1.0f32; 64 * 64], [1.0f32; 64 * 64]);
        let mut c = vec![0.0f32; 64 * 64];
        kerust::kernels::gemm::gemm(64, 64, 64, 1.0, &a, Op::N, &b, Op::N, 0.0, &mut c);
        assert_eq!(c[0], 64.0);
    });
    pool
}
