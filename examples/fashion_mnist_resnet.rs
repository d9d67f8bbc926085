//! A small residual network on Fashion-MNIST, written with the functional form of `model!`:
//! one residual block is declared once as a model and used twice as a layer.
//!
//! Conv2D 32 3x3 → MaxPooling 2 → 2 × [x + Conv(ReLU(Conv(x)))] → MaxPooling 2 → Flatten →
//! Dropout 0.3 → Dense 10; Adam with a cosine-decayed learning rate, batch 32, on
//! standardised inputs.
//!
//! Needs the data from Debian's `dataset-fashion-mnist` package (or the four IDX files in
//! the directory given as an argument).
//!
//! ```sh
//! cargo run --release --example fashion_mnist_resnet [-- [--quick] [--epochs N] [DATA_DIR]]
//! ```
//! `--quick` trains one epoch on 3,000 samples and tests on 1,000 (a smoke test).

use kerust::data::Standardizer;
use kerust::datasets::fashion_mnist::{fashion_mnist, DEBIAN_DIR};
use kerust::optim::schedules::CosineDecay;
use kerust::prelude::*;

model! {
    /// A residual block: two 3x3 convolutions, added back to the block's input.
    pub struct ResBlock {
        x = Input<14, 14, 32>;
        c1 = Conv2D(32, 3, padding = same, activation = relu)(x);
        c2 = Conv2D(32, 3, padding = same)(c1);
        sum = Add(x, c2);
        y = ReLU()(sum);
        outputs(y);
    }
}

model! {
    /// The classifier: a convolution, two residual blocks, a dense head.
    pub struct ResNet {
        image = Input<28, 28, 1>;
        stem = Conv2D(32, 3, padding = same, activation = relu)(image);
        pool1 = MaxPooling2D(2)(stem);
        block1 = Model(ResBlock)(pool1);
        block2 = Model(ResBlock)(block1);
        pool2 = MaxPooling2D(2)(block2);
        flat = Flatten()(pool2);
        drop = Dropout(0.3)(flat);
        logits = Dense(10)(drop);
        outputs(logits);
    }
}

fn main() -> Result<(), kerust::Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let epochs_arg = args
        .iter()
        .position(|a| a == "--epochs")
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse::<usize>())
        .transpose()
        .map_err(|e| kerust::Error::invalid_argument("--epochs", format!("expected a number: {e}")))?;
    let dir = args
        .iter()
        .enumerate()
        .find(|(i, a)| !a.starts_with("--") && (*i == 0 || args[i - 1] != "--epochs"))
        .map_or(DEBIAN_DIR, |(_, a)| a.as_str());
    let (mut train, mut test) = fashion_mnist(dir)?;
    let epochs = if quick {
        train = train.select(&(0..3_000).collect::<Vec<_>>());
        test = test.select(&(0..1_000).collect::<Vec<_>>());
        1
    } else {
        epochs_arg.unwrap_or(4)
    };
    let standardize = Standardizer::fit(&train)?;
    standardize.apply(&mut train);
    standardize.apply(&mut test);
    println!(
        "Fashion-MNIST: {} training and {} test samples",
        train.len(),
        test.len()
    );

    let (batch, lr) = (32, 2e-3);
    let model = ResNet::new(0);
    model.summary();
    let mut trainer = model.compile(
        Adam::new(lr).with_schedule(CosineDecay::new(
            lr,
            (epochs * train.len().div_ceil(batch)) as u64,
        )),
        SparseCategoricalCrossentropy::from_logits(),
        [Metric::Accuracy],
    );
    let start = std::time::Instant::now();
    let history = trainer.fit(
        &train,
        FitOptions {
            epochs,
            batch_size: batch,
            ..Default::default()
        },
    )?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "training: {secs:.1}s for {} epochs ({:.1}s per epoch, {:.0} samples/s)",
        history.len(),
        secs / history.len() as f64,
        (history.len() * train.len()) as f64 / secs
    );
    let scores = trainer.evaluate(&test)?;
    println!("test loss: {:.4}", scores.loss());
    println!("test accuracy: {:.4}", scores.get("accuracy").unwrap_or(f64::NAN));
    Ok(())
}
