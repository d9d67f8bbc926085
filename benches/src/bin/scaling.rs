//! How W1's training time grows with the hidden width: the W1 MLP with its first hidden
//! layer 256, 512, 1024 or 2048 wide (784 -> H relu -> 128 relu -> 10), Adam 1e-3, batch
//! 128, on the first `--samples` (default 20,000) Fashion-MNIST training images. Prints one
//! JSON object per width: the median over `--reps` (default 3) of the seconds one epoch
//! takes after a warm-up epoch, its samples/s, and the time relative to width 256.
//!
//! ```sh
//! cargo run --release -p kerust-benches --bin scaling -- [--samples N] [--reps N] [--threads N]
//! ```

use std::time::Instant;

use kerust::datasets::fashion_mnist::{fashion_mnist, DEBIAN_DIR};
use kerust::prelude::*;
use kerust::train::ModelExt;

model! {
    /// Hidden width 256 (W1 itself).
    pub struct H256: Input<784> { h1: Dense(256, activation = relu), h2: Dense(128, activation = relu), out: Dense(10) }
}
model! {
    /// Hidden width 512.
    pub struct H512: Input<784> { h1: Dense(512, activation = relu), h2: Dense(128, activation = relu), out: Dense(10) }
}
model! {
    /// Hidden width 1024.
    pub struct H1024: Input<784> { h1: Dense(1024, activation = relu), h2: Dense(128, activation = relu), out: Dense(10) }
}
model! {
    /// Hidden width 2048.
    pub struct H2048: Input<784> { h1: Dense(2048, activation = relu), h2: Dense(128, activation = relu), out: Dense(10) }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median seconds of one epoch (after a warm-up epoch) over `reps` fresh models.
fn epoch_seconds<M: Model>(
    new: impl Fn(u64) -> Box<M>,
    data: &Dataset,
    reps: usize,
) -> Result<f64, kerust::Error> {
    let mut times = Vec::new();
    for r in 0..reps {
        let mut trainer =
            new(r as u64).compile(Adam::new(1e-3), SparseCategoricalCrossentropy::from_logits(), []);
        let opts = || FitOptions {
            epochs: 1,
            batch_size: 128,
            shuffle: true,
            seed: r as u64,
            verbose: Verbosity::Silent,
            ..Default::default()
        };
        trainer.fit(data, opts())?;
        let t = Instant::now();
        trainer.fit(data, opts())?;
        times.push(t.elapsed().as_secs_f64());
    }
    Ok(median(times))
}

fn run(samples: usize, reps: usize) -> Result<(), kerust::Error> {
    let (train, _) = fashion_mnist(DEBIAN_DIR)?;
    let n = samples.min(train.len());
    let sub = train.select(&(0..n).collect::<Vec<_>>());
    let data = Dataset::new(sub.x, &[784], sub.y)?;
    let threads = rayon::current_num_threads();
    let results = [
        (256, epoch_seconds(H256::new, &data, reps)?),
        (512, epoch_seconds(H512::new, &data, reps)?),
        (1024, epoch_seconds(H1024::new, &data, reps)?),
        (2048, epoch_seconds(H2048::new, &data, reps)?),
    ];
    let base = results[0].1;
    for (width, secs) in results {
        println!(
            "{{\"system\":\"kerust\",\"workload\":\"W1-width-{width}\",\"value\":{secs:.3},\"unit\":\"s/epoch\",\"samples_per_s\":{:.0},\"relative_to_256\":{:.2},\"threads\":{threads},\"notes\":\"784-{width}-128-10, Adam, batch 128, one epoch of {n} Fashion-MNIST samples after a warm-up epoch, median of {reps}\"}}",
            n as f64 / secs,
            secs / base
        );
    }
    Ok(())
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut samples, mut reps, mut threads) = (20_000, 3, None);
    while let Some(a) = args.next() {
        let mut value = || args.next().and_then(|v| v.parse::<usize>().ok());
        match a.as_str() {
            "--samples" => samples = value().unwrap_or(samples),
            "--reps" => reps = value().unwrap_or(reps).max(1),
            "--threads" => threads = value(),
            _ => {
                eprintln!("usage: scaling [--samples N] [--reps N] [--threads N]");
                std::process::exit(2);
            }
        }
    }
    let result = match threads {
        Some(t) => rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .map_err(|e| kerust::Error::invalid_argument("threads", e.to_string()))
            .and_then(|pool| pool.install(|| run(samples, reps))),
        None => run(samples, reps),
    };
    if let Err(e) = result {
        eprintln!("scaling: {e}");
        std::process::exit(1);
    }
}
