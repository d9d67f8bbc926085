//! Training build: fine-tunes the last `Dense` layer of the desktop's digits MLP on the
//! device, with plain SGD on a compile-time batch of 16 held-out training digits, then
//! classifies the 360 test digits with the fine-tuned model.
//!
//! No heap: the model, its gradient block, the workspace and the batch are `static`s whose
//! sizes come from the model's constants (`Model::WORKSPACE * BATCH`, `DigitsMlp::ZERO`).
//! `cargo run --release --bin digits-train` runs it under QEMU.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use kerust::{Model, Rng};
use kerust_embedded_example::finetune::{Buffers, FineTune, BATCH, LEARNING_RATE, STEPS};
use kerust_embedded_example::format::{self, Samples};
use kerust_embedded_example::model::DigitsMlp;
use kerust_embedded_example::report::{self, Fixed};
use kerust_embedded_example::{println, static_model};
use panic_semihosting as _;

const IN: usize = 64;
const OUT: usize = 10;
/// The training workspace of a batch: `DigitsMlp::WORKSPACE` values per sample.
const WS_LEN: usize = <DigitsMlp as Model>::WORKSPACE * BATCH;

static_model!(static TRAINED: DigitsMlp = include_bytes!(env!("KERUST_EMBEDDED_WEIGHTS")));

/// The desktop's test digits.
static SAMPLES: Samples<'static> = format::samples(include_bytes!("../../data/samples.bin"), IN);
/// Training digits the desktop held out, for fine-tuning on the device.
static FINETUNE: Samples<'static> = format::samples(include_bytes!("../../data/finetune.bin"), IN);

const _: () = assert!(
    FINETUNE.count >= BATCH,
    "finetune.bin holds fewer samples than a batch"
);

#[entry]
fn main() -> ! {
    // cortex-m-rt turns these into `&'static mut` references: RAM (.bss), not stack or heap.
    static mut MODEL: DigitsMlp = DigitsMlp::ZERO;
    static mut GRADS: DigitsMlp = DigitsMlp::ZERO;
    static mut WS: [f32; WS_LEN] = [0.0; WS_LEN];
    static mut DY: [f32; OUT * BATCH] = [0.0; OUT * BATCH];
    static mut LOSSES: [f32; BATCH] = [0.0; BATCH];
    static mut X: [f32; IN * BATCH] = [0.0; IN * BATCH];
    static mut LABELS: [u32; BATCH] = [0; BATCH];

    // The desktop's weights, copied from flash into RAM to be trained.
    MODEL.params_mut().copy_from_slice(TRAINED.params());
    for (i, (x, label)) in X.chunks_exact_mut(IN).zip(LABELS.iter_mut()).enumerate() {
        FINETUNE.write_input(i, x);
        *label = FINETUNE.label(i);
    }

    let fine_tune = FineTune::last_layer::<DigitsMlp>(LEARNING_RATE);
    println!(
        "kerust embedded: DigitsMlp 64-32-10, {} parameters, fine-tuning the last layer ({} parameters) \
         on {BATCH} samples: batch {BATCH}, {STEPS} steps of SGD, learning rate {}",
        DigitsMlp::PARAM_COUNT,
        fine_tune.trainable.len(),
        Fixed(LEARNING_RATE, 3)
    );
    let mut buffers = Buffers {
        ws: WS,
        grads: GRADS,
        dy: DY,
        losses: LOSSES,
    };
    let mut rng = Rng::new(0);
    for step in 1..=STEPS {
        let loss = fine_tune.step(MODEL, &mut buffers, X, LABELS, &mut rng);
        println!("loss: {} (step {step})", Fixed(loss, 6));
    }

    let model: &DigitsMlp = MODEL;
    report::classify(&SAMPLES, |x| model.forward(x));
    report::finish()
}
