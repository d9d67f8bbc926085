//! A model with two inputs: the 8x8 digit image through a convolution, and a tabular
//! vector (the image's 8 row sums and 8 column sums) through a dense layer, concatenated
//! before the classifier. Bundled data, no download.
//!
//! ```sh
//! cargo run --release --example two_inputs
//! ```

use kerust::prelude::*;

model! {
    /// An image branch and a tabular branch, concatenated.
    pub struct ImageAndTable {
        image = Input<8, 8, 1>;
        table = Input<16>;
        conv = Conv2D(16, 3, padding = same, activation = relu)(image);
        pool = MaxPooling2D(2)(conv);
        flat = Flatten()(pool);
        tab = Dense(16, activation = relu)(table);
        both = Concatenate(flat, tab);
        hidden = Dense(64, activation = relu)(both);
        digit = Dense(10)(hidden);
        outputs(digit);
    }
}

/// Row sums then column sums of each 8x8 image, scaled to [0, 1].
fn profiles(images: &[f32]) -> Vec<f32> {
    let mut out = Vec::with_capacity(images.len() / 64 * 16);
    for img in images.chunks_exact(64) {
        for r in 0..8 {
            out.push(img[r * 8..r * 8 + 8].iter().sum::<f32>() / 8.0);
        }
        for c in 0..8 {
            out.push((0..8).map(|r| img[r * 8 + c]).sum::<f32>() / 8.0);
        }
    }
    out
}

fn main() -> Result<(), kerust::Error> {
    let (train, test) = kerust::datasets::digits()?;
    // Keras's `fit(x=[images, table], y=labels)`: one array per input.
    let train = Dataset::from_inputs::<ImageAndTable>(&[&train.x, &profiles(&train.x)], train.y.clone())?;
    let test = Dataset::from_inputs::<ImageAndTable>(&[&test.x, &profiles(&test.x)], test.y.clone())?;

    let model = ImageAndTable::new(7);
    model.summary();
    let mut trainer = model.compile(
        Adam::default(),
        SparseCategoricalCrossentropy::from_logits(),
        [Metric::Accuracy],
    );
    trainer.fit(
        &train,
        FitOptions {
            epochs: 15,
            batch_size: 32,
            ..Default::default()
        },
    )?;
    let scores = trainer.evaluate(&test)?;
    println!("test loss: {:.4}", scores.loss());
    println!("test accuracy: {:.4}", scores.get("accuracy").unwrap_or(f64::NAN));

    // One sample through the typed forward: a tuple of the two inputs.
    let image: [[[f32; 1]; 8]; 8] = std::array::from_fn(|r| std::array::from_fn(|c| [test.x[r * 8 + c]]));
    let table: [f32; 16] = std::array::from_fn(|i| test.x[64 + i]);
    let logits = trainer.model().forward((&image, &table));
    let best = (0..10)
        .max_by(|&a, &b| logits[a].total_cmp(&logits[b]))
        .unwrap_or(0);
    let label = match &test.y {
        Target::Classes(c) => c[0].to_string(),
        _ => "?".into(),
    };
    println!("first test sample: predicted class {best}, label {label}");
    Ok(())
}
