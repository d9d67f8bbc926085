//! Fashion-MNIST MLP (reference workload W1): 784 → Dense 256 relu → Dense 128 relu → Dense 10,
//! Adam (lr 1e-3), batch 128, 5 epochs.
//!
//! Needs the data from Debian's `dataset-fashion-mnist` package (or the four IDX files in
//! the directory given as the first argument).
//!
//! ```sh
//! cargo run --release --example fashion_mnist_mlp [-- [--quick] [DATA_DIR]]
//! ```
//! `--quick` trains one epoch on 6,000 samples (a smoke test).

use kerust::datasets::fashion_mnist::{fashion_mnist, DEBIAN_DIR};
use kerust::prelude::*;

model! {
    /// The W1 multi-layer perceptron.
    pub struct FashionMlp: Input<28, 28, 1> {
        flat: Flatten,
        h1:   Dense(256, activation = relu),
        h2:   Dense(128, activation = relu),
        out:  Dense(10),
    }
}

fn main() -> Result<(), kerust::Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let dir = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map_or(DEBIAN_DIR, String::as_str);
    let (mut train, test) = fashion_mnist(dir)?;
    let epochs = if quick {
        train = train.select(&(0..6_000).collect::<Vec<_>>());
        1
    } else {
        5
    };
    println!(
        "Fashion-MNIST: {} training and {} test samples",
        train.len(),
        test.len()
    );

    let model = FashionMlp::new(0);
    model.summary();
    let mut trainer = model.compile(
        Adam::default(),
        SparseCategoricalCrossentropy::from_logits(),
        [Metric::Accuracy],
    );
    let start = std::time::Instant::now();
    trainer.fit(
        &train,
        FitOptions {
            epochs,
            batch_size: 128,
            ..Default::default()
        },
    )?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "training: {secs:.2}s, {:.0} samples/s",
        (epochs * train.len()) as f64 / secs
    );
    let scores = trainer.evaluate(&test)?;
    println!("test loss: {:.4}", scores.loss());
    println!("test accuracy: {:.4}", scores.get("accuracy").unwrap_or(f64::NAN));
    Ok(())
}
