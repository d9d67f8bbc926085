//! W3 of `../shared/WORKLOADS.md` on candle: W1's MLP (784 → 256 relu → 128 relu → 10),
//! one sample per call, median latency of 10,000 calls after 1,000 warm-up, inputs cycling
//! through Fashion-MNIST's test images; three repetitions. candle's own initialisation (the
//! latency does not depend on the values, which candle does not skip).
//!
//! ```sh
//! RAYON_NUM_THREADS=2 cargo run --release --manifest-path benches/peers/candle-w3/Cargo.toml
//! ```
//!
//! candle sizes its thread pool from `RAYON_NUM_THREADS`: without it this machine's run took
//! ~96 µs per call, with 1 or 2 threads ~14 µs.

use std::time::Instant;

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{linear, VarBuilder, VarMap};

const IMAGES: &str = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dev = Device::Cpu;
    let map = VarMap::new();
    let vb = VarBuilder::from_varmap(&map, DType::F32, &dev);
    let l1 = linear(784, 256, vb.pp("l1"))?;
    let l2 = linear(256, 128, vb.pp("l2"))?;
    let l3 = linear(128, 10, vb.pp("l3"))?;
    let raw = std::process::Command::new("gzip")
        .args(["-dc", IMAGES])
        .output()?
        .stdout;
    if raw.len() != 16 + 10_000 * 784 {
        return Err(format!("{IMAGES}: not Fashion-MNIST's 10,000 test images").into());
    }
    let xs = raw[16..]
        .chunks_exact(784)
        .map(|c| {
            let px: Vec<f32> = c.iter().map(|&b| f32::from(b) / 255.0).collect();
            Tensor::from_vec(px, (1, 784), &dev)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let forward = |x: &Tensor| -> candle_core::Result<Vec<f32>> {
        let h = l1.forward(x)?.relu()?;
        let h = l2.forward(&h)?.relu()?;
        l3.forward(&h)?.flatten_all()?.to_vec1::<f32>()
    };
    let mut medians = Vec::new();
    for rep in 0..3 {
        for i in 0..1_000 {
            std::hint::black_box(forward(&xs[i % xs.len()])?);
        }
        let mut lat = Vec::with_capacity(10_000);
        for i in 1_000..11_000 {
            let x = &xs[i % xs.len()];
            let t = Instant::now();
            std::hint::black_box(forward(x)?);
            lat.push(t.elapsed().as_secs_f64() * 1e6);
        }
        lat.sort_by(f64::total_cmp);
        let median = lat[lat.len() / 2];
        eprintln!("[candle] W3 rep {rep}: median {median:.2} us");
        medians.push(median);
    }
    let reps: Vec<String> = medians.iter().map(|m| format!("{m:.2}")).collect();
    medians.sort_by(f64::total_cmp);
    let threads = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|t| t.parse::<usize>().ok());
    println!(
        "{{\"system\":\"candle\",\"workload\":\"W3\",\"value\":{:.2},\"unit\":\"us\",\"accuracy\":null,\"threads\":{},\"notes\":\"candle 0.11 (candle-nn Linear + relu), forward of one sample, median latency of 10000 calls after 1000 warm-up; median of 3 reps [{}]\"}}",
        medians[1],
        threads.map_or("null".into(), |t| t.to_string()),
        reps.join(", ")
    );
    Ok(())
}
