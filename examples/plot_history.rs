//! Plots the training history of the quickstart model: trains it on the bundled digits
//! with a validation split, then saves the per-epoch losses and accuracies as CSV (Keras's
//! `CSVLogger` format) and as a PNG of the training and validation curves.
//!
//! ```sh
//! cargo run --release --example plot_history            # writes into target/
//! cargo run --release --example plot_history -- out/dir  # or into out/dir
//! ```
//!
//! Needs the `plot` feature (on by default).

use std::path::PathBuf;

use kerust::prelude::*;
use kerust::train::PlotOptions;

model! {
    /// The quickstart's two-layer perceptron for 8x8 digit images.
    pub struct Mlp: Input<64> {
        hidden: Dense(128, activation = relu),
        drop:   Dropout(0.2),
        out:    Dense(10),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("target"), PathBuf::from);
    std::fs::create_dir_all(&dir).map_err(|source| kerust::Error::Io {
        path: dir.clone(),
        source,
    })?;

    let (train, test) = kerust::datasets::digits()?;
    let mut trainer = Mlp::new(42).compile(
        Adam::default(),
        SparseCategoricalCrossentropy::from_logits(),
        [Metric::Accuracy],
    );
    let history = trainer.fit(
        &train,
        FitOptions {
            epochs: 30,
            batch_size: 32,
            validation_split: 0.2,
            verbose: Verbosity::Silent,
            ..Default::default()
        },
    )?;
    for (epoch, logs) in history.epochs.iter().zip(&history.logs) {
        println!("epoch {:>2}: {logs}", epoch + 1);
    }

    let csv = dir.join("history.csv");
    let png = dir.join("history.png");
    history.save_csv(&csv)?;
    history.save_png(
        &png,
        &PlotOptions {
            title: "Mlp on digits: training history".into(),
            ..Default::default()
        },
    )?;
    println!("wrote {} and {}", csv.display(), png.display());

    let scores = trainer.evaluate(&test)?;
    println!("test accuracy: {:.4}", scores.get("accuracy").unwrap_or(f64::NAN));
    Ok(())
}
