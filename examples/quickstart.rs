//! Quickstart: train an MLP on the bundled UCI handwritten digits (8x8 images, no download).
//!
//! ```sh
//! cargo run --release --example quickstart
//! ```

use kerust::prelude::*;

model! {
    /// A two-layer perceptron for 8x8 digit images.
    pub struct Mlp: Input<64> {
        hidden: Dense(128, activation = relu),
        drop:   Dropout(0.2),
        out:    Dense(10),
    }
}

fn main() -> Result<(), kerust::Error> {
    let start = std::time::Instant::now();
    let (train, test) = kerust::datasets::digits()?;
    println!("digits: {} training and {} test samples", train.len(), test.len());

    let model = Mlp::new(42);
    model.summary();

    let mut trainer = model.compile(
        Adam::default(),
        SparseCategoricalCrossentropy::from_logits(),
        [Metric::Accuracy],
    );
    let history = trainer.fit(
        &train,
        FitOptions {
            epochs: 20,
            batch_size: 32,
            validation_split: 0.1,
            ..Default::default()
        },
    )?;
    let last = history.last().map(|l| l.to_string()).unwrap_or_default();
    println!("last epoch: {last}");

    let scores = trainer.evaluate(&test)?;
    let probs = trainer.model().predict(&test.x, 256)?;
    println!(
        "predicted {} outputs for {} test samples",
        probs.len(),
        test.len()
    );
    println!("test loss: {:.4}", scores.loss());
    println!("test accuracy: {:.4}", scores.get("accuracy").unwrap_or(f64::NAN));
    println!("elapsed: {:.2}s", start.elapsed().as_secs_f64());
    Ok(())
}
