//! The reference workloads W1..W6 (`../shared/WORKLOADS.md`) on Fashion-MNIST, measured with
//! the protocol of the peer script (`../shared/peers/peers_bench.py`), so that kerust and
//! PyTorch / Keras compare as ratios measured back to back on one machine.
//!
//! ```sh
//! cargo run --release -p kerust-benches --bin workloads -- [W1 W2 ...] [--quick]
//!     [--threads N] [--reps N] [--data DIR] [--max-wait SECONDS] [--exact-denormals]
//! ```
//!
//! Prints one JSON object per workload on stdout (`system`, `workload`, `value`, `unit`,
//! `accuracy`, `threads`, `notes`); progress goes to stderr.
//!
//! | id | measure (median of `--reps`, default 3) |
//! |---|---|
//! | W1 | MLP 784-256-128-10, Adam 1e-3, batch 128, shuffled: samples/s of epoch 2 (epoch 1 is the warm-up) of a fresh model per repetition; test accuracy after 5 epochs |
//! | W2 | Keras's mnist_convnet, Adam 1e-3, batch 128: samples/s over batches 11..90 of epoch 1 (10,240 samples after 1,280), fresh model per repetition; repetition 1 trains 2 full epochs and gives the test accuracy |
//! | W3 | W1's model, one sample (`model.forward`): median latency of 10,000 calls after 1,000 warm-up |
//! | W4 | W1's model, `predict` in batches of 1024: samples/s of 10 passes over the 10k test set |
//! | W5 | W2's model, one sample: median latency of 2,000 calls after 200 warm-up |
//! | W6 | W2's model, `predict` in batches of 256: samples/s of one pass over the 10k test set |
//!
//! As in the peer script, data are in memory before anything is timed, every timed part is
//! preceded by a wait (at most `--max-wait` seconds, 120 by default, 900 in all) for other
//! processes to use less than 15% of the machine, and the notes report how much CPU other
//! processes took during each repetition and the load average. W3..W6 use the models W1/W2
//! trained when those ran in the same process (freshly initialised ones otherwise); their
//! notes give the test accuracy of the predictions as a sanity check.
//!
//! Training flushes subnormal floats to zero (`FitOptions::flush_denormals`, on by default,
//! as TensorFlow's and XLA's CPU threads do); `--exact-denormals` turns that off, to show what
//! subnormal arithmetic costs.
//!
//! `--quick` is a smoke run for CI: a few hundred training samples, one repetition, fewer
//! calls, no waiting; its numbers are not measurements.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use kerust::datasets::fashion_mnist::{fashion_mnist, DEBIAN_DIR};
use kerust::prelude::*;
use kerust::shape::flatten_mut;
use kerust::train::ModelExt;

model! {
    /// W1: the reference MLP.
    pub struct Mlp: Input<784> {
        h1:  Dense(256, activation = relu),
        h2:  Dense(128, activation = relu),
        out: Dense(10),
    }
}

model! {
    /// W2: Keras's "mnist_convnet".
    pub struct ConvNet: Input<28, 28, 1> {
        conv1: Conv2D(32, kernel_size = (3, 3), activation = relu),
        pool1: MaxPooling2D(pool_size = (2, 2)),
        conv2: Conv2D(64, kernel_size = (3, 3), activation = relu),
        pool2: MaxPooling2D(pool_size = (2, 2)),
        flat:  Flatten,
        drop:  Dropout(0.5),
        out:   Dense(10),
    }
}

const ALL: [&str; 6] = ["W1", "W2", "W3", "W4", "W5", "W6"];
const BATCH_TRAIN: usize = 128;
/// The other processes' share of the machine below which it counts as quiet.
const QUIET: f64 = 0.15;

/// Sizes of one run: the workloads' own, or the `--quick` smoke sizes.
struct Sizes {
    reps: usize,
    w1_train: usize,
    w1_epochs: usize,
    w2_train: usize,
    w2_epochs: usize,
    w2_warm_batches: usize,
    w2_timed_batches: usize,
    test: usize,
    w3: (usize, usize),
    w5: (usize, usize),
    w4_passes: usize,
    w6_passes: usize,
}

impl Sizes {
    fn full(reps: usize) -> Self {
        Sizes {
            reps,
            w1_train: 60_000,
            w1_epochs: 5,
            w2_train: 60_000,
            w2_epochs: 2,
            w2_warm_batches: 10,
            w2_timed_batches: 80,
            test: 10_000,
            w3: (1_000, 10_000),
            w5: (200, 2_000),
            w4_passes: 10,
            w6_passes: 1,
        }
    }

    fn quick() -> Self {
        Sizes {
            reps: 1,
            w1_train: 640,
            w1_epochs: 2,
            w2_train: 640,
            w2_epochs: 1,
            w2_warm_batches: 1,
            w2_timed_batches: 4,
            test: 1_000,
            w3: (100, 1_000),
            w5: (20, 200),
            w4_passes: 1,
            w6_passes: 1,
        }
    }
}

struct Args {
    workloads: Vec<String>,
    quick: bool,
    threads: Option<usize>,
    reps: usize,
    data: String,
    max_wait: f64,
    flush_denormals: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: workloads [W1 W2 W3 W4 W5 W6] [--quick] [--threads N] [--reps N] [--data DIR] [--max-wait SECONDS]\n                 [--exact-denormals]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut a = Args {
        workloads: Vec::new(),
        quick: false,
        threads: None,
        reps: 3,
        data: DEBIAN_DIR.into(),
        max_wait: 120.0,
        flush_denormals: true,
    };
    let mut it = std::env::args().skip(1);
    let mut max_wait = None;
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().unwrap_or_else(|| panic!("{name} needs a value"));
        match arg.as_str() {
            "--quick" => a.quick = true,
            "--exact-denormals" => a.flush_denormals = false,
            "--threads" => a.threads = Some(value("--threads").parse().unwrap_or_else(|_| usage())),
            "--reps" => a.reps = value("--reps").parse().unwrap_or_else(|_| usage()),
            "--data" => a.data = value("--data"),
            "--max-wait" => max_wait = Some(value("--max-wait").parse().unwrap_or_else(|_| usage())),
            "-h" | "--help" => usage(),
            w => {
                let w = w.to_uppercase();
                if !ALL.contains(&w.as_str()) {
                    eprintln!("unknown workload or option `{arg}`");
                    usage();
                }
                if !a.workloads.contains(&w) {
                    a.workloads.push(w);
                }
            }
        }
    }
    if a.workloads.is_empty() {
        a.workloads = ALL.iter().map(|w| (*w).to_string()).collect();
    }
    // Keep W1..W6 order: W3/W4 reuse W1's trained model, W5/W6 W2's.
    a.workloads.sort();
    if a.reps == 0 || a.threads == Some(0) {
        usage();
    }
    a.max_wait = max_wait.unwrap_or(if a.quick { 0.0 } else { 120.0 });
    a
}

// ------------------------------------------------------------------ machine quietness

/// Busy CPU seconds of the whole machine (user + system + irq + softirq of processes at
/// nice <= 0) and user seconds of niced processes, from `/proc/stat`.
fn machine_busy() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let v: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .map(|t| t.parse().unwrap_or(0.0))
        .collect();
    let t = |i: usize| v.get(i).copied().unwrap_or(0.0);
    // USER_HZ is 100 on Linux.
    ((t(0) + t(2) + t(5) + t(6)) / 100.0, t(1) / 100.0)
}

/// CPU seconds (user + system, all threads) of this process, from `/proc/self/stat`.
fn self_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = after
        .split_whitespace()
        .map(|t| t.parse().unwrap_or(0.0))
        .collect();
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the command name.
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}

fn load1() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(f64::NAN)
}

/// Wall time of a region and the share of the machine that other processes took in it.
struct Window {
    t0: Instant,
    busy0: (f64, f64),
    self0: f64,
    wall: f64,
    bg: f64,
    bg_nice: f64,
}

impl Window {
    fn start() -> Self {
        let (busy0, self0) = (machine_busy(), self_cpu());
        Window {
            t0: Instant::now(),
            busy0,
            self0,
            wall: 0.0,
            bg: 0.0,
            bg_nice: 0.0,
        }
    }

    fn stop(mut self) -> Self {
        self.wall = self.t0.elapsed().as_secs_f64();
        let (busy, nice) = machine_busy();
        let other = (busy - self.busy0.0) - (self_cpu() - self.self0);
        let cap = self.wall * std::thread::available_parallelism().map_or(1, usize::from) as f64;
        if cap > 0.0 {
            self.bg = other.max(0.0) / cap;
            self.bg_nice = (nice - self.busy0.1).max(0.0) / cap;
        }
        self
    }
}

/// Waits for a quiet machine, bounded per call and in all.
struct Quiet {
    max_wait: f64,
    budget: f64,
    waited: f64,
}

impl Quiet {
    /// Waits until other processes use less than [`QUIET`] of the machine (at most
    /// `max_wait` seconds); returns their share in the last second checked.
    fn wait(&mut self) -> f64 {
        if self.max_wait <= 0.0 {
            return f64::NAN;
        }
        let start = Instant::now();
        loop {
            let w = Window::start();
            std::thread::sleep(Duration::from_secs(1));
            let w = w.stop();
            let waited = start.elapsed().as_secs_f64();
            if w.bg < QUIET || waited > self.max_wait || self.waited + waited > self.budget {
                self.waited += waited;
                if waited > 1.5 {
                    log(&format!("waited {waited:.0}s for a quiet machine"));
                }
                return w.bg;
            }
        }
    }
}

/// Per-repetition background shares of one workload.
#[derive(Default)]
struct Collector {
    during: Vec<(f64, f64)>,
    before: Vec<f64>,
}

impl Collector {
    fn note(&self) -> String {
        let pct = |v: f64| {
            if v.is_nan() {
                "-".to_string()
            } else {
                format!("{:.0}%", v * 100.0)
            }
        };
        let during: Vec<String> = self.during.iter().map(|&(b, _)| pct(b)).collect();
        let niced: Vec<String> = self.during.iter().map(|&(_, n)| pct(n)).collect();
        let before: Vec<String> = self.before.iter().map(|&b| pct(b)).collect();
        format!(
            "other CPU (share of machine) during reps: {} (+niced {}), just before: {}; load1_end={:.2}",
            during.join(","),
            niced.join(","),
            before.join(","),
            load1()
        )
    }
}

// ------------------------------------------------------------------ output

fn log(msg: &str) {
    eprintln!("[kerust workloads] {msg}");
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The median and its description: `median of N: min .. max .. all [...]`.
fn summary(xs: &[f64], digits: usize) -> (f64, String) {
    let f = |v: f64| format!("{v:.digits$}");
    let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let all: Vec<String> = xs.iter().map(|&v| f(v)).collect();
    (
        median(xs),
        format!(
            "median of {}: min {} max {} all [{}]",
            xs.len(),
            f(min),
            f(max),
            all.join(", ")
        ),
    )
}

fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

struct Emitter {
    threads: usize,
    quick: bool,
    flush_denormals: bool,
}

impl Emitter {
    fn emit(&self, workload: &str, value: f64, unit: &str, accuracy: Option<f64>, notes: &str) {
        let ftz = if self.flush_denormals {
            ""
        } else {
            "DIAGNOSTIC: training with exact subnormal arithmetic (--exact-denormals); "
        };
        let value = if unit == "us" {
            format!("{value:.2}")
        } else {
            format!("{value:.1}")
        };
        let accuracy = accuracy.map_or("null".to_string(), |a| format!("{a:.4}"));
        let quick = if self.quick {
            "QUICK smoke run (not a measurement); "
        } else {
            ""
        };
        println!(
            "{{\"system\":\"kerust\",\"workload\":\"{workload}\",\"value\":{value},\"unit\":\"{unit}\",\"accuracy\":{accuracy},\"threads\":{},\"version\":{},\"notes\":{}}}",
            self.threads,
            json_str("kerust (this workspace, release profile)"),
            json_str(&format!("{quick}{ftz}{notes}"))
        );
    }
}

// ------------------------------------------------------------------ callbacks

/// Wall time of each epoch.
#[derive(Default)]
struct EpochTimer {
    t0: Option<Instant>,
    times: Vec<f64>,
}

impl Callback for EpochTimer {
    fn on_epoch_begin(&mut self, _epoch: usize, _ctx: &mut Context<'_>) {
        self.t0 = Some(Instant::now());
    }

    fn on_epoch_end(&mut self, _epoch: usize, _logs: &Logs, _ctx: &mut Context<'_>) -> Control {
        if let Some(t0) = self.t0 {
            self.times.push(t0.elapsed().as_secs_f64());
        }
        Control::Continue
    }
}

/// Epoch times plus the instants at which chosen batches of the first epoch ended.
struct BatchMarks {
    epochs: EpochTimer,
    at: [usize; 2],
    marks: [Option<Instant>; 2],
    epoch: usize,
}

impl Callback for BatchMarks {
    fn on_epoch_begin(&mut self, epoch: usize, ctx: &mut Context<'_>) {
        self.epoch = epoch;
        self.epochs.on_epoch_begin(epoch, ctx);
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &Logs, ctx: &mut Context<'_>) -> Control {
        self.epochs.on_epoch_end(epoch, logs, ctx)
    }

    fn on_train_batch_end(&mut self, step: usize, _logs: &Logs, _ctx: &mut Context<'_>) -> Control {
        if self.epoch == 0 {
            for (at, mark) in self.at.iter().zip(&mut self.marks) {
                if step == *at {
                    *mark = Some(Instant::now());
                }
            }
        }
        Control::Continue
    }
}

// ------------------------------------------------------------------ workloads

fn labels(d: &Dataset) -> &[u32] {
    match &d.y {
        Target::Classes(c) => c,
        _ => unreachable!("Fashion-MNIST has class labels"),
    }
}

/// The share of `outputs` (10 logits per sample) whose arg-max is the label.
fn accuracy_of(outputs: &[f32], labels: &[u32]) -> f64 {
    let right = outputs
        .chunks_exact(10)
        .zip(labels)
        .filter(|(row, &label)| {
            let best = row
                .iter()
                .enumerate()
                .fold(0, |b, (i, &v)| if v > row[b] { i } else { b });
            best == label as usize
        })
        .count();
    right as f64 / labels.len() as f64
}

fn test_accuracy<M: Model>(model: &M, test: &Dataset) -> f64 {
    let y = model.predict(&test.x, 1024).expect("test data fit the model");
    accuracy_of(&y, labels(test))
}

/// Whether training flushes subnormals to zero (`--exact-denormals` clears it).
static FLUSH_DENORMALS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

fn fit_options<'a>(epochs: usize, seed: u64, callbacks: Vec<&'a mut dyn Callback>) -> FitOptions<'a> {
    FitOptions {
        flush_denormals: FLUSH_DENORMALS.load(std::sync::atomic::Ordering::Relaxed),
        epochs,
        batch_size: BATCH_TRAIN,
        shuffle: true,
        seed,
        verbose: Verbosity::Silent,
        callbacks,
        ..Default::default()
    }
}

struct Bench {
    sizes: Sizes,
    quiet: Quiet,
    out: Emitter,
    /// Training and test sets, flat (`[784]`) and as images (`[28, 28, 1]`).
    train_flat: Dataset,
    test_flat: Dataset,
    train_img: Dataset,
    test_img: Dataset,
    mlp: Option<(Box<Mlp>, bool)>,
    cnn: Option<(Box<ConvNet>, bool)>,
}

impl Bench {
    fn w1(&mut self) -> Result<(), kerust::Error> {
        let s = &self.sizes;
        let n = self.train_flat.len();
        let (mut col, mut thr, mut later, mut accs) = (Collector::default(), vec![], vec![], vec![]);
        for r in 0..s.reps {
            let mut trainer =
                Mlp::new(r as u64).compile(Adam::new(1e-3), SparseCategoricalCrossentropy::from_logits(), []);
            let mut timer = EpochTimer::default();
            col.before.push(self.quiet.wait());
            let w = Window::start();
            trainer.fit(
                &self.train_flat,
                fit_options(s.w1_epochs, r as u64, vec![&mut timer]),
            )?;
            let w = w.stop();
            col.during.push((w.bg, w.bg_nice));
            thr.push(n as f64 / timer.times[1]);
            later.push(
                timer.times[1..]
                    .iter()
                    .map(|t| format!("{:.0}", n as f64 / t))
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            let model = trainer.into_model();
            accs.push(test_accuracy(&*model, &self.test_flat));
            log(&format!(
                "W1 rep {r}: epoch times {:?} s, test accuracy {:.4}",
                timer
                    .times
                    .iter()
                    .map(|t| (t * 100.0).round() / 100.0)
                    .collect::<Vec<_>>(),
                accs[r]
            ));
            self.mlp = Some((model, true));
        }
        let (med, desc) = summary(&thr, 0);
        let accs_s: Vec<String> = accs.iter().map(|a| format!("{a:.4}")).collect();
        self.out.emit(
            "W1",
            med,
            "samples/s",
            Some(median(&accs)),
            &format!(
                "trainer.fit(batch 128, {} epochs, shuffle) on {n} samples, epoch 2 timed by an epoch callback (epoch 1 = warm-up), fresh model per rep; {desc}; samples/s of epochs 2..{} per rep [{}]; test acc after {} epochs per rep [{}] (median reported); {}",
                s.w1_epochs,
                s.w1_epochs,
                later.iter().map(|l| format!("[{l}]")).collect::<Vec<_>>().join(", "),
                s.w1_epochs,
                accs_s.join(", "),
                col.note()
            ),
        );
        Ok(())
    }

    fn w2(&mut self) -> Result<(), kerust::Error> {
        let s = &self.sizes;
        let n = self.train_img.len();
        let (b0, b1) = (s.w2_warm_batches - 1, s.w2_warm_batches + s.w2_timed_batches - 1);
        let timed = (s.w2_timed_batches * BATCH_TRAIN) as f64;
        let (mut col, mut thr) = (Collector::default(), vec![]);
        let (mut acc, mut ep_last) = (f64::NAN, f64::NAN);
        for r in 0..s.reps {
            let mut trainer = ConvNet::new(r as u64).compile(
                Adam::new(1e-3),
                SparseCategoricalCrossentropy::from_logits(),
                [],
            );
            let mut marks = BatchMarks {
                epochs: EpochTimer::default(),
                at: [b0, b1],
                marks: [None; 2],
                epoch: 0,
            };
            // Rep 0 trains the full epochs (for the accuracy); later reps stop after batch b1.
            let mut opts = fit_options(if r == 0 { s.w2_epochs } else { 1 }, r as u64, vec![&mut marks]);
            if r > 0 {
                opts.steps_per_epoch = Some(b1 + 1);
            }
            col.before.push(self.quiet.wait());
            let w = Window::start();
            trainer.fit(&self.train_img, opts)?;
            let w = w.stop();
            col.during.push((w.bg, w.bg_nice));
            let (Some(m0), Some(m1)) = (marks.marks[0], marks.marks[1]) else {
                panic!("W2: batch marks missing (fewer than {} batches?)", b1 + 1)
            };
            thr.push(timed / (m1 - m0).as_secs_f64());
            if r == 0 {
                ep_last = n as f64 / marks.epochs.times.last().copied().unwrap_or(f64::NAN);
                let model = trainer.into_model();
                acc = test_accuracy(&*model, &self.test_img);
                log(&format!(
                    "W2 rep 0: epoch times {:?} s, test accuracy {acc:.4}",
                    marks
                        .epochs
                        .times
                        .iter()
                        .map(|t| (t * 10.0).round() / 10.0)
                        .collect::<Vec<_>>()
                ));
                self.cnn = Some((model, true));
            }
            log(&format!("W2 rep {r}: {:.0} samples/s", thr[r]));
        }
        let (med, desc) = summary(&thr, 0);
        self.out.emit(
            "W2",
            med,
            "samples/s",
            Some(acc),
            &format!(
                "trainer.fit(batch 128, shuffle); batches {}..{} of epoch 1 ({} samples after {} warm-up) timed by a batch-end callback, fresh model per rep; {desc}; rep 1 trains {} full epoch(s) on {n} samples: test acc after them = accuracy, its last epoch ran at {ep_last:.0} samples/s; reps 2.. stop after batch {} (steps_per_epoch); {}",
                b0 + 2,
                b1 + 1,
                timed,
                s.w2_warm_batches * BATCH_TRAIN,
                s.w2_epochs,
                b1 + 1,
                col.note()
            ),
        );
        Ok(())
    }

    /// Median per-call latency of `forward` over the samples `xs`, in microseconds.
    fn latency<S: Copy, Y>(
        &mut self,
        workload: &str,
        trained: bool,
        xs: &[S],
        (warm, calls): (usize, usize),
        forward: impl Fn(&S) -> Y,
    ) {
        let (mut col, mut meds, mut warm_s) = (Collector::default(), vec![], vec![]);
        let mut lat = Vec::with_capacity(calls);
        for r in 0..self.sizes.reps {
            col.before.push(self.quiet.wait());
            lat.clear();
            let w = Window::start();
            let t = Instant::now();
            for i in 0..warm {
                std::hint::black_box(forward(std::hint::black_box(&xs[i % xs.len()])));
            }
            warm_s.push(t.elapsed().as_secs_f64());
            for i in warm..warm + calls {
                let x = std::hint::black_box(&xs[i % xs.len()]);
                let t = Instant::now();
                std::hint::black_box(forward(x));
                lat.push(t.elapsed().as_secs_f64() * 1e6);
            }
            let w = w.stop();
            col.during.push((w.bg, w.bg_nice));
            meds.push(median(&lat));
            log(&format!("{workload} rep {r}: median {:.2} us", meds[r]));
        }
        let (med, desc) = summary(&meds, 2);
        self.out.emit(
            workload,
            med,
            "us",
            None,
            &format!(
                "model.forward(&sample) (one sample, on the calling thread, no heap), median per-call latency over {calls} calls after {warm} warm-up, inputs cycling through the test set; {desc}; model {}; warm-up seconds per rep [{}]; {}",
                if trained { "as trained by the workload above" } else { "freshly initialised" },
                warm_s.iter().map(|t| format!("{t:.2}")).collect::<Vec<_>>().join(", "),
                col.note()
            ),
        );
    }

    /// Batch inference throughput of `predict` over the test set.
    fn throughput<M: Model>(
        &mut self,
        workload: &str,
        model: &M,
        trained: bool,
        test: &Dataset,
        bs: usize,
        passes: usize,
    ) {
        let (mut col, mut vals) = (Collector::default(), vec![]);
        let mut out = model.predict(&test.x, bs).expect("test data fit the model"); // warm-up
        for r in 0..self.sizes.reps {
            col.before.push(self.quiet.wait());
            let w = Window::start();
            for _ in 0..passes {
                out = model.predict(&test.x, bs).expect("test data fit the model");
            }
            let w = w.stop();
            col.during.push((w.bg, w.bg_nice));
            vals.push((passes * test.len()) as f64 / w.wall);
            log(&format!("{workload} rep {r}: {:.0} samples/s", vals[r]));
        }
        let acc = accuracy_of(&out, labels(test));
        let (med, desc) = summary(&vals, 0);
        self.out.emit(
            workload,
            med,
            "samples/s",
            None,
            &format!(
                "model.predict(x_test, batch_size={bs}) ({} samples, output Vec), {passes} call(s) per measurement after 1 warm-up call; {desc}; test acc of these predictions {acc:.4} ({}); {}",
                test.len(),
                if trained { "model trained by the workload above" } else { "freshly initialised model" },
                col.note()
            ),
        );
    }

    fn w3_w4(&mut self, w3: bool, w4: bool) {
        let (model, trained) = self.mlp.take().unwrap_or_else(|| (Mlp::new(0), false));
        if w3 {
            let mut xs = vec![[0.0f32; 784]; self.test_flat.len()];
            flatten_mut(&mut xs).copy_from_slice(&self.test_flat.x);
            self.latency("W3", trained, &xs, self.sizes.w3, |x| model.forward(x));
        }
        if w4 {
            let test = std::mem::replace(&mut self.test_flat, empty());
            self.throughput("W4", &*model, trained, &test, 1024, self.sizes.w4_passes);
            self.test_flat = test;
        }
        self.mlp = Some((model, trained));
    }

    fn w5_w6(&mut self, w5: bool, w6: bool) {
        let (model, trained) = self.cnn.take().unwrap_or_else(|| (ConvNet::new(0), false));
        if w5 {
            let mut xs = vec![[[[0.0f32; 1]; 28]; 28]; self.test_img.len()];
            flatten_mut(&mut xs).copy_from_slice(&self.test_img.x);
            self.latency("W5", trained, &xs, self.sizes.w5, |x| model.forward(x));
        }
        if w6 {
            let test = std::mem::replace(&mut self.test_img, empty());
            self.throughput("W6", &*model, trained, &test, 256, self.sizes.w6_passes);
            self.test_img = test;
        }
        self.cnn = Some((model, trained));
    }
}

fn empty() -> Dataset {
    Dataset {
        x: Vec::new(),
        sample_shape: vec![1],
        y: Target::Classes(Vec::new()),
    }
}

fn first(d: &Dataset, n: usize) -> Dataset {
    if n >= d.len() {
        d.clone()
    } else {
        d.select(&(0..n).collect::<Vec<_>>())
    }
}

fn reshaped(d: &Dataset, shape: &[usize]) -> Result<Dataset, kerust::Error> {
    Dataset::new(d.x.clone(), shape, d.y.clone())
}

fn run(args: &Args) -> Result<(), kerust::Error> {
    let threads = rayon::current_num_threads();
    let sizes = if args.quick {
        Sizes::quick()
    } else {
        Sizes::full(args.reps)
    };
    let t = Instant::now();
    let (train, test) = fashion_mnist(&args.data)?;
    let (train, test) = (
        first(&train, sizes.w1_train.max(sizes.w2_train)),
        first(&test, sizes.test),
    );
    let mut b = Bench {
        train_flat: reshaped(&first(&train, sizes.w1_train), &[784])?,
        test_flat: reshaped(&test, &[784])?,
        train_img: first(&train, sizes.w2_train),
        test_img: test,
        sizes,
        quiet: Quiet {
            max_wait: args.max_wait,
            budget: 900.0,
            waited: 0.0,
        },
        out: Emitter {
            threads,
            quick: args.quick,
            flush_denormals: args.flush_denormals,
        },
        mlp: None,
        cnn: None,
    };
    log(&format!(
        "data loaded in {:.2}s; workloads {:?}; {threads} rayon thread(s); {} rep(s){}; load {:.2}",
        t.elapsed().as_secs_f64(),
        args.workloads,
        b.sizes.reps,
        if args.quick { " (QUICK)" } else { "" },
        load1()
    ));
    let has = |w: &str| args.workloads.iter().any(|x| x == w);
    if has("W1") {
        b.w1()?;
    }
    if has("W2") {
        b.w2()?;
    }
    if has("W3") || has("W4") {
        b.w3_w4(has("W3"), has("W4"));
    }
    if has("W5") || has("W6") {
        b.w5_w6(has("W5"), has("W6"));
    }
    log(&format!(
        "done in {:.1}s (waited for quiet {:.0}s)",
        t.elapsed().as_secs_f64(),
        b.quiet.waited
    ));
    Ok(())
}

fn main() {
    let args = parse_args();
    FLUSH_DENORMALS.store(args.flush_denormals, std::sync::atomic::Ordering::Relaxed);
    let result = if let Some(threads) = args.threads {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads);
        // `run` itself (and so the optimizer step) runs on a thread of the pool.
        pool.build().expect("a rayon pool").install(|| run(&args))
    } else {
        run(&args)
    };
    if let Err(e) = result {
        eprintln!("workloads: {e}");
        std::process::exit(1);
    }
}
