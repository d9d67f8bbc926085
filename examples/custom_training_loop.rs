//! Keras's guide "Writing a training loop from scratch", in Rust, on the bundled digits.
//!
//! `fit` does all of this for you; writing the loop by hand lets you change any part of
//! it. Each training step runs the model forward in training mode, computes the loss and
//! its gradients (what Keras's `GradientTape` records), and lets the optimizer apply them.
//! A [`Workspace`] holds the buffers of that step; metrics are tracked by hand, and a
//! validation pass runs at the end of every epoch.
//!
//! ```sh
//! cargo run --release --example custom_training_loop
//! ```

use std::time::Instant;

use kerust::data::{Dataset, Target};
use kerust::losses::Targets;
use kerust::prelude::*;
use kerust::train::Workspace;

model! {
    /// The guide's model: two hidden layers of 64 units, then 10 logits.
    pub struct Mlp: Input<64> {
        dense_1: Dense(64, activation = relu),
        dense_2: Dense(64, activation = relu),
        predictions: Dense(10),
    }
}

const EPOCHS: usize = 10;
const BATCH_SIZE: usize = 32;
const CLASSES: usize = 10;

/// The class labels of a dataset.
fn labels(data: &Dataset) -> &[u32] {
    match &data.y {
        Target::Classes(c) => c,
        _ => unreachable!("the digits have class labels"),
    }
}

/// The fraction of `predicted` classes equal to `expected`.
fn accuracy(predicted: &[u32], expected: &[u32]) -> f64 {
    let hits = predicted.iter().zip(expected).filter(|(p, e)| p == e).count();
    hits as f64 / expected.len() as f64
}

fn main() -> Result<(), kerust::Error> {
    let start = Instant::now();

    // Prepare the data: reserve the last 20% of the training samples for validation.
    let (train_full, test) = kerust::datasets::digits()?;
    let (train, val) = train_full.split_last(0.2)?;
    let (x_train, y_train) = (&train.x, labels(&train));
    let in_len = train.sample_len();
    println!(
        "{} training, {} validation and {} test samples",
        train.len(),
        val.len(),
        test.len()
    );

    // The model, an optimizer, a loss function, and the metrics to track.
    let mut model = Mlp::new(42);
    let mut optimizer = Adam::default();
    let loss_fn = SparseCategoricalCrossentropy::from_logits();
    let train_acc_metric = Metric::SparseCategoricalAccuracy;
    let mut train_acc_state = vec![0.0; train_acc_metric.state_len(CLASSES)];

    // The buffers of one training step, reused for every batch.
    let mut ws = Workspace::<Mlp>::new(BATCH_SIZE);
    let mut rng = Rng::new(7);
    let mut order: Vec<usize> = (0..train.len()).collect();
    let (mut x_batch, mut y_batch) = (Vec::new(), Vec::new());

    for epoch in 0..EPOCHS {
        let epoch_start = Instant::now();
        println!("\nStart of epoch {}", epoch + 1);
        rng.shuffle(&mut order);

        let mut loss_sum = 0.0;
        for (step, idx) in order.chunks(BATCH_SIZE).enumerate() {
            // Gather the shuffled batch.
            x_batch.clear();
            y_batch.clear();
            for &i in idx {
                x_batch.extend_from_slice(&x_train[i * in_len..(i + 1) * in_len]);
                y_batch.push(y_train[i]);
            }
            let targets = Targets::Sparse(&y_batch);

            // Forward pass, loss and gradients (Keras: the `GradientTape` block and
            // `tape.gradient(loss_value, model.trainable_weights)`).
            let loss_value = ws.step(&model, &x_batch, targets, &loss_fn, &mut rng);
            // One gradient-descent step (Keras: `optimizer.apply(grads, model.trainable_weights)`).
            ws.apply_gradients(&mut model, &mut optimizer);

            // Update the training metrics from this step's predictions (the logits).
            train_acc_metric.update(ws.output(), targets, CLASSES, None, &mut train_acc_state);
            loss_sum += f64::from(loss_value) * idx.len() as f64;

            if step % 10 == 0 {
                println!(
                    "Training loss (for 1 batch) at step {step}: {loss_value:.4} (seen so far: {} samples)",
                    (step + 1) * BATCH_SIZE
                );
            }
        }

        // Display the metrics at the end of each epoch, then reset them.
        let train_loss = loss_sum / train.len() as f64;
        let train_acc = train_acc_metric.result(&train_acc_state);
        train_acc_state.fill(0.0);
        println!("Training loss over epoch: {train_loss:.4}");
        println!("Training acc over epoch: {train_acc:.4}");

        // A validation pass: inference mode (no dropout), arg-max of the logits.
        let val_acc = accuracy(&model.predict_classes(&val.x, 256)?, labels(&val));
        println!("Validation acc: {val_acc:.4}");
        println!("Time taken: {:.1} ms", epoch_start.elapsed().as_secs_f64() * 1e3);
    }

    let test_acc = accuracy(&model.predict_classes(&test.x, 256)?, labels(&test));
    println!("\ntest accuracy: {test_acc:.4}");
    println!("elapsed: {:.2}s", start.elapsed().as_secs_f64());
    Ok(())
}
