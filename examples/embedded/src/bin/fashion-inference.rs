//! Memory-budget build: a 784-64-10 MLP on Fashion-MNIST images, inference only, its 50,890
//! parameters decoded into a `static` in flash at compile time.
//!
//! The weights and samples are not committed: `run.sh` writes them first with
//! `cargo run --release --example embedded_train -- --fashion DIR` (trained when
//! Fashion-MNIST is installed, Glorot-initialised otherwise: the memory is the same).
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use kerust_embedded_example::format::{self, Samples};
use kerust_embedded_example::model::FashionMlp;
use kerust_embedded_example::{println, report, static_model};
use panic_semihosting as _;

static_model!(static MODEL: FashionMlp = include_bytes!(concat!(env!("KERUST_EMBEDDED_FASHION_DIR"), "/weights.bin")));

/// A few Fashion-MNIST test images (pixels 0..=255, labels).
static SAMPLES: Samples<'static> = format::samples(
    include_bytes!(concat!(env!("KERUST_EMBEDDED_FASHION_DIR"), "/samples.bin")),
    784,
);

#[entry]
fn main() -> ! {
    println!(
        "kerust embedded: FashionMlp 784-64-10, {} parameters in flash, inference on {} samples",
        FashionMlp::PARAM_COUNT,
        SAMPLES.count
    );
    report::classify(&SAMPLES, |x| MODEL.forward(x));
    report::finish()
}
