//! Inference build: the digits MLP trained on the desktop, its weights decoded into a
//! `static` at compile time (flash), classifies the 360 embedded test digits.
//!
//! `cargo run --release --bin digits-inference` runs it under QEMU.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use kerust_embedded_example::format::{self, Samples};
use kerust_embedded_example::model::DigitsMlp;
use kerust_embedded_example::{println, report, static_model};
use panic_semihosting as _;

static_model!(static MODEL: DigitsMlp = include_bytes!(env!("KERUST_EMBEDDED_WEIGHTS")));

/// The desktop's test digits (pixels 0..=16, labels).
static SAMPLES: Samples<'static> = format::samples(include_bytes!("../../data/samples.bin"), 64);

#[entry]
fn main() -> ! {
    println!(
        "kerust embedded: DigitsMlp 64-32-10, {} parameters in flash, inference on {} samples",
        DigitsMlp::PARAM_COUNT,
        SAMPLES.count
    );
    report::classify(&SAMPLES, |x| MODEL.forward(x));
    report::finish()
}
