//! A model with two outputs and weighted losses: from an 8x8 digit image it predicts the
//! digit (10 classes, cross-entropy) and how much ink the image holds (a value, mean
//! squared error, loss weight 0.5), with metrics per output. Bundled data, no download.
//!
//! ```sh
//! cargo run --release --example two_outputs
//! ```

use kerust::prelude::*;
use kerust::train::PerOutput;

model! {
    /// A shared trunk with a classification head and a regression head.
    pub struct DigitAndInk {
        image = Input<64>;
        trunk = Dense(64, activation = relu)(image);
        digit = Dense(10)(trunk);
        ink_hidden = Dense(16, activation = relu)(trunk);
        ink = Dense(1)(ink_hidden);
        outputs(digit, ink);
    }
}

/// The mean pixel value of each image.
fn ink(images: &[f32]) -> Vec<f32> {
    images
        .chunks_exact(64)
        .map(|img| img.iter().sum::<f32>() / 64.0)
        .collect()
}

fn main() -> Result<(), kerust::Error> {
    let (train, test) = kerust::datasets::digits()?;
    // Keras's `y={"digit": labels, "ink": amounts}`.
    let targets = |d: &Dataset| {
        Target::by_name::<DigitAndInk>([
            ("digit", d.y.clone()),
            (
                "ink",
                Target::Values {
                    data: ink(&d.x),
                    width: 1,
                },
            ),
        ])
    };
    let train = Dataset::from_inputs::<DigitAndInk>(&[&train.x], targets(&train)?)?;
    let test = Dataset::from_inputs::<DigitAndInk>(&[&test.x], targets(&test)?)?;

    let model = DigitAndInk::new(3);
    model.summary();
    // Keras's `compile(loss={...}, loss_weights={...}, metrics={...})`.
    let losses = PerOutput::new()
        .loss("digit", SparseCategoricalCrossentropy::from_logits())
        .loss("ink", MeanSquaredError::new())
        .loss_weight("ink", 0.5)
        .metrics("digit", [Metric::Accuracy])
        .metrics("ink", [Metric::MeanAbsoluteError]);
    let mut trainer = model.compile(Adam::default(), losses, []);
    let history = trainer.fit(
        &train,
        FitOptions {
            epochs: 20,
            batch_size: 32,
            ..Default::default()
        },
    )?;
    if let Some(last) = history.last() {
        println!("last epoch: {last}");
    }
    let scores = trainer.evaluate(&test)?;
    println!("test loss: {:.4}", scores.loss());
    // `test accuracy:` is the line CI checks.
    println!(
        "test accuracy: {:.4}",
        scores.get("digit_accuracy").unwrap_or(f64::NAN)
    );
    println!(
        "test ink mean absolute error: {:.4}",
        scores.get("ink_mean_absolute_error").unwrap_or(f64::NAN)
    );
    Ok(())
}
