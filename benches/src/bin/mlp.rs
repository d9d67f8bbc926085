//! MLP training and inference throughput on synthetic data with the shapes of the reference
//! workloads W1/W3/W4 (784-256-128-10, batch 128; see ../shared/WORKLOADS.md). Prints one
//! JSON object per line; medians of several repetitions.
//!
//! ```sh
//! cargo run --release -p kerust-benches --bin mlp [-- --quick]
//! ```

use std::time::Instant;

use kerust::prelude::*;

model! {
    /// The reference MLP (W1).
    pub struct W1Mlp: Input<784> {
        h1:  Dense(256, activation = relu),
        h2:  Dense(128, activation = relu),
        out: Dense(10),
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn synthetic(n: usize, seed: u64) -> Result<Dataset, kerust::Error> {
    let mut rng = Rng::new(seed);
    let x: Vec<f32> = (0..n * 784).map(|_| rng.uniform()).collect();
    let y: Vec<u32> = (0..n).map(|_| rng.below(10) as u32).collect();
    Dataset::new(x, &[784], Target::Classes(y))
}

fn main() -> Result<(), kerust::Error> {
    let quick = std::env::args().any(|a| a == "--quick");
    let reps = if quick { 3 } else { 5 };
    let n = if quick { 2_560 } else { 12_800 };
    let threads = rayon::current_num_threads();
    let data = synthetic(n, 1)?;

    // Training throughput: one epoch of `n` samples at batch 128 (after a warm-up epoch).
    let mut trainer =
        W1Mlp::new(0).compile(Adam::default(), SparseCategoricalCrossentropy::from_logits(), []);
    let opts = || FitOptions {
        epochs: 1,
        batch_size: 128,
        verbose: Verbosity::Silent,
        ..Default::default()
    };
    trainer.fit(&data, opts())?;
    let mut rates = Vec::new();
    for _ in 0..reps {
        let t = Instant::now();
        trainer.fit(&data, opts())?;
        rates.push(n as f64 / t.elapsed().as_secs_f64());
    }
    println!(
        "{{\"system\":\"kerust\",\"workload\":\"mlp-train-synthetic\",\"value\":{:.0},\"unit\":\"samples/s\",\"threads\":{threads},\"notes\":\"784-256-128-10, Adam, batch 128, synthetic data, median of {reps}\"}}",
        median(rates)
    );

    // One-sample latency (W3 shape).
    let model = trainer.into_model();
    let x = [0.5f32; 784];
    let calls = if quick { 2_000 } else { 10_000 };
    for _ in 0..calls / 10 {
        std::hint::black_box(model.forward(std::hint::black_box(&x)));
    }
    let mut lat = Vec::with_capacity(calls);
    for _ in 0..calls {
        let t = Instant::now();
        std::hint::black_box(model.forward(std::hint::black_box(&x)));
        lat.push(t.elapsed().as_secs_f64() * 1e6);
    }
    println!(
        "{{\"system\":\"kerust\",\"workload\":\"mlp-latency-1\",\"value\":{:.2},\"unit\":\"us\",\"threads\":1,\"notes\":\"median of {calls} single-sample forward calls\"}}",
        median(lat)
    );

    // Batch inference (W4 shape).
    let mut rates = Vec::new();
    for _ in 0..reps {
        let t = Instant::now();
        std::hint::black_box(model.predict(&data.x, 1024)?);
        rates.push(n as f64 / t.elapsed().as_secs_f64());
    }
    println!(
        "{{\"system\":\"kerust\",\"workload\":\"mlp-predict-1024\",\"value\":{:.0},\"unit\":\"samples/s\",\"threads\":{threads},\"notes\":\"batch 1024, median of {reps}\"}}",
        median(rates)
    );
    Ok(())
}
