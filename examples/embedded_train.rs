//! The desktop half of the embedded example (`examples/embedded/`): trains the model that
//! the Cortex-M4 firmware runs and writes everything the firmware embeds.
//!
//! The model is declared once, in `examples/embedded/src/model.rs`; this program and the
//! `no_std` firmware both include that file, so the network trained here is, type for type,
//! the one that runs on the device.
//!
//! ```sh
//! cargo run --release --example embedded_train              # train, write examples/embedded/data/
//! cargo run --release --example embedded_train -- --check   # recompute data/expected-*.txt and compare
//! cargo run --release --example embedded_train -- --fashion DIR [FASHION_MNIST_DIR]
//! ```
//!
//! The default trains the 64-32-10 digits MLP on the bundled digits (all training samples
//! but the last 16, which are held out for fine-tuning on the device) and writes to
//! `examples/embedded/data/`:
//!
//! - `weights.bin`: the weights, with a header the firmware checks at compile time;
//! - `samples.bin`: the 360 test digits; `finetune.bin`: the 16 held-out training digits;
//! - `expected-inference.txt`: the desktop's logits and predictions for the test digits;
//! - `expected-train.txt`: the desktop's loss curve when it runs the device's fine-tuning
//!   steps (`finetune.rs`), then its logits and predictions with the fine-tuned model.
//!
//! The host test (`examples/embedded/host`) checks that QEMU prints the same. `--check`
//! recomputes the expected files from the committed weights and samples and compares them
//! with the committed ones (logits within 1e-5), which shows they are still what this
//! desktop computes.
//!
//! `--fashion DIR` writes the weights, 16 test images and the expected results of the
//! 784-64-10 MLP of the memory-budget build to `DIR`: trained for two epochs when
//! Fashion-MNIST is installed (Debian's `dataset-fashion-mnist`, or the directory given),
//! Glorot-initialised and with blank images otherwise (the memory figures are the same).

use std::error::Error;
use std::fs;
use std::path::Path;

use kerust::data::{Dataset, Target};
use kerust::datasets::fashion_mnist::{fashion_mnist, DEBIAN_DIR};
use kerust::prelude::*;

// Shared with the firmware (and `results.rs` with the host test); not every item is used here.
#[allow(dead_code)]
#[path = "embedded/src/finetune.rs"]
mod finetune;
#[allow(dead_code)]
#[path = "embedded/src/format.rs"]
mod format;
#[allow(dead_code)]
#[path = "embedded/src/model.rs"]
mod model;
#[allow(dead_code)]
#[path = "embedded/host/src/results.rs"]
mod results;

use finetune::{Buffers, FineTune, BATCH, LEARNING_RATE, STEPS};
use model::{DigitsMlp, FashionMlp};

type AnyResult<T> = Result<T, Box<dyn Error>>;

/// Where the firmware's data lives.
const DATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/embedded/data");
/// The digits' pixel scale (0..=16) and Fashion-MNIST's (0..=255).
const DIGITS_SCALE: u32 = 16;
const FASHION_SCALE: u32 = 255;
/// Fashion-MNIST test images embedded in the budget build.
const FASHION_SAMPLES: usize = 16;
/// Agreement required by `--check` between a fresh computation and the committed files.
const CHECK_TOLERANCE: f32 = 1e-5;

fn main() -> AnyResult<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let data = Path::new(DATA_DIR);
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] => train_digits(data),
        ["--check"] => check(data),
        ["--fashion", out] => fashion(Path::new(out), Path::new(DEBIAN_DIR)),
        ["--fashion", out, dir] => fashion(Path::new(out), Path::new(dir)),
        _ => Err("usage: embedded_train [--check | --fashion OUT_DIR [FASHION_MNIST_DIR]]".into()),
    }
}

/// Trains the digits MLP and writes the firmware's data files.
fn train_digits(dir: &Path) -> AnyResult<()> {
    let (train_full, test) = kerust::datasets::digits()?;
    let n = train_full.len();
    let train = train_full.select(&(0..n - BATCH).collect::<Vec<_>>());
    let held_out = train_full.select(&(n - BATCH..n).collect::<Vec<_>>());
    println!(
        "digits: training on {} samples, {} held out for the device, {} test samples",
        train.len(),
        held_out.len(),
        test.len()
    );

    let model = DigitsMlp::new(42);
    model.summary();
    let mut trainer = model.compile(
        Adam::default(),
        SparseCategoricalCrossentropy::from_logits(),
        [Metric::Accuracy],
    );
    trainer.fit(
        &train,
        FitOptions {
            epochs: 30,
            batch_size: 32,
            verbose: Verbosity::Silent,
            ..Default::default()
        },
    )?;
    let model = trainer.into_model();

    fs::create_dir_all(dir)?;
    fs::write(dir.join("weights.bin"), weights_file(&*model))?;
    fs::write(dir.join("samples.bin"), samples_file(&test, DIGITS_SCALE)?)?;
    fs::write(dir.join("finetune.bin"), samples_file(&held_out, DIGITS_SCALE)?)?;
    // Computed from the files just written: exactly what the firmware starts from.
    let (inference, training) = digits_expected(dir)?;
    fs::write(dir.join("expected-inference.txt"), &inference)?;
    fs::write(dir.join("expected-train.txt"), &training)?;
    for (name, text) in [("inference", &inference), ("training", &training)] {
        let r = results::parse(text)?;
        let (hits, count) = r.accuracy.unwrap_or_default();
        println!("desktop {name}: accuracy {hits}/{count}");
        for (step, loss) in r.losses.iter().enumerate() {
            println!("  {}", results::loss_line(step + 1, *loss));
        }
    }
    println!("wrote {}", dir.display());
    Ok(())
}

/// Recomputes the expected results from the committed files and compares.
fn check(dir: &Path) -> AnyResult<()> {
    let (inference, training) = digits_expected(dir)?;
    for (file, fresh) in [
        ("expected-inference.txt", inference),
        ("expected-train.txt", training),
    ] {
        let committed = fs::read_to_string(dir.join(file))?;
        let agreement = results::compare(
            &results::parse(&committed)?,
            &results::parse(&fresh)?,
            CHECK_TOLERANCE,
        )
        .map_err(|e| format!("{file} is not what this desktop computes from the committed data: {e}"))?;
        println!(
            "{file}: {} samples, {} losses; largest differences: logit {:e}, loss {:e}",
            agreement.samples, agreement.losses, agreement.max_logit_diff, agreement.max_loss_diff
        );
    }
    println!("the committed data agrees with this desktop (tolerance {CHECK_TOLERANCE:e})");
    Ok(())
}

/// The desktop's results for the data files in `dir`: the inference run, and the
/// fine-tuning run followed by inference with the fine-tuned model.
fn digits_expected(dir: &Path) -> AnyResult<(String, String)> {
    const IN: usize = 64;
    let weights = fs::read(dir.join("weights.bin"))?;
    let samples = fs::read(dir.join("samples.bin"))?;
    let tune = fs::read(dir.join("finetune.bin"))?;
    // The firmware's decoders, here run at run time (they panic on a file that does not fit).
    let params =
        format::decode_params::<{ DigitsMlp::PARAM_COUNT }>(&weights, format::signature::<DigitsMlp>());
    let (samples, tune) = (format::samples(&samples, IN), format::samples(&tune, IN));

    let mut model = DigitsMlp::new(0);
    model.params_mut().copy_from_slice(&params);
    let header = "# written by `cargo run --release --example embedded_train`: the desktop's results";
    let mut inference = format!("{header} for data/samples.bin under data/weights.bin\n");
    inference += &classify(&*model, &samples)?;

    // The device's fine-tuning, run here with the same code and heap buffers.
    let fine_tune = FineTune::last_layer::<DigitsMlp>(LEARNING_RATE);
    let mut grads = DigitsMlp::new(0);
    let (mut ws, mut dy, mut losses) = (
        vec![0.0; <DigitsMlp as Model>::WORKSPACE * BATCH],
        vec![0.0; 10 * BATCH],
        vec![0.0; BATCH],
    );
    let mut buffers = Buffers {
        ws: &mut ws,
        grads: &mut *grads,
        dy: &mut dy,
        losses: &mut losses,
    };
    let x = inputs(&tune, BATCH);
    let labels: Vec<u32> = (0..BATCH).map(|i| tune.label(i)).collect();
    let mut training = format!("{header} for fine-tuning on data/finetune.bin, then data/samples.bin\n");
    let mut rng = Rng::new(0);
    for step in 1..=STEPS {
        let loss = fine_tune.step(&mut *model, &mut buffers, &x, &labels, &mut rng);
        training += &results::loss_line(step, loss);
        training.push('\n');
    }
    training += &classify(&*model, &samples)?;
    Ok((inference, training))
}

/// The model inputs of the first `count` samples.
fn inputs(samples: &format::Samples<'_>, count: usize) -> Vec<f32> {
    let mut x = vec![0.0; count * samples.len];
    for (i, x) in x.chunks_exact_mut(samples.len).enumerate() {
        samples.write_input(i, x);
    }
    x
}

/// The lines the firmware prints for `samples`, computed with the desktop's batched forward
/// pass.
fn classify<M: Model>(model: &M, samples: &format::Samples<'_>) -> AnyResult<String> {
    let logits = model.predict(&inputs(samples, samples.count), 256)?;
    let classes = <M::Output as Shape>::LEN;
    let mut text = String::new();
    let mut hits = 0;
    for (i, logits) in logits.chunks_exact(classes).enumerate() {
        let label = samples.label(i);
        hits += usize::from(results::argmax(logits) == label as usize);
        text += &results::sample_line(i, label, logits);
        text.push('\n');
    }
    text += &results::accuracy_line(hits, samples.count);
    text.push('\n');
    Ok(text)
}

/// Writes the 784-64-10 budget model's data to `out`.
fn fashion(out: &Path, data_dir: &Path) -> AnyResult<()> {
    let (model, test) = match fashion_mnist(data_dir) {
        Ok((train, test)) => {
            println!(
                "Fashion-MNIST: training the 784-64-10 MLP for 2 epochs on {} samples",
                train.len()
            );
            let mut trainer = FashionMlp::new(42).compile(
                Adam::default(),
                SparseCategoricalCrossentropy::from_logits(),
                [Metric::Accuracy],
            );
            trainer.fit(
                &train,
                FitOptions {
                    epochs: 2,
                    batch_size: 128,
                    verbose: Verbosity::Silent,
                    ..Default::default()
                },
            )?;
            let test = test.select(&(0..FASHION_SAMPLES).collect::<Vec<_>>());
            (trainer.into_model(), test)
        }
        Err(e) => {
            println!(
                "Fashion-MNIST not found in {} ({e}): writing Glorot-initialised weights and blank \
                 images (the memory figures are the same; the accuracy means nothing)",
                data_dir.display()
            );
            let blank = Dataset::new(
                vec![0.0; FASHION_SAMPLES * 784],
                &[784],
                Target::Classes(vec![0; FASHION_SAMPLES]),
            )?;
            (FashionMlp::new(42), blank)
        }
    };
    fs::create_dir_all(out)?;
    fs::write(out.join("weights.bin"), weights_file(&*model))?;
    let samples = samples_file(&test, FASHION_SCALE)?;
    fs::write(out.join("samples.bin"), &samples)?;
    let header = "# the desktop's results for samples.bin under weights.bin";
    let expected = format!(
        "{header}\n{}",
        classify(&*model, &format::samples(&samples, 784))?
    );
    fs::write(out.join("expected-inference.txt"), expected)?;
    println!("wrote {}", out.display());
    Ok(())
}

/// A weights file (see `format.rs`): header, then the flat parameters as little-endian f32.
fn weights_file<M: Model>(model: &M) -> Vec<u8> {
    let mut bytes = format::weights_header::<M>().to_vec();
    bytes.extend(model.flat().iter().flat_map(|v| v.to_le_bytes()));
    bytes
}

/// A samples file (see `format.rs`): header, pixels as bytes, labels. Fails unless every
/// input value is exactly `pixel / scale` for a byte `pixel`, so that the firmware sees
/// the very values the desktop does.
fn samples_file(data: &Dataset, scale: u32) -> AnyResult<Vec<u8>> {
    let Target::Classes(labels) = &data.y else {
        return Err("the embedded samples need class labels".into());
    };
    let mut bytes = format::samples_header(data.len(), data.sample_len(), scale).to_vec();
    for &x in &data.x {
        let p = (x * scale as f32).round();
        if !(0.0..=255.0).contains(&p) || format::pixel(p as u8, scale).to_bits() != x.to_bits() {
            return Err(format!("input value {x} is not a byte divided by {scale}").into());
        }
        bytes.push(p as u8);
    }
    for &label in labels {
        bytes.push(u8::try_from(label)?);
    }
    Ok(bytes)
}
