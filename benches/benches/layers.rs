//! Layer, model-step and optimizer micro-benchmarks at the shapes of the reference workloads
//! (`../shared/WORKLOADS.md`), one thread.
//!
//! ```sh
//! cargo bench -p kerust-benches --bench layers [-- FILTER]
//! ```
//!
//! Training runs each batch of 128 as two shards of 64 samples, one per thread, so the
//! training benchmarks use batch 64; inference uses W6's batch of 256 and W5's single
//! sample. Throughput is in samples ("items") per second of one thread.

use divan::counter::ItemsCount;
use divan::Bencher;
use kerust::activations::Relu;
use kerust::layers::{Conv2D, MaxPooling2D, Valid};
use kerust::params::boxed_zeroed;
use kerust::prelude::*;

fn main() {
    divan::main();
}

/// W2's layers, as `model!` declares them.
type Conv1 = Conv2D<28, 28, 1, 32, 3, 3, 1, 1, 1, 1, 26, 26, Valid, Relu>;
type Pool1 = MaxPooling2D<26, 26, 32, 2, 2, 2, 2, 0, 0, 13, 13>;
type Conv2 = Conv2D<13, 13, 32, 64, 3, 3, 1, 1, 1, 1, 11, 11, Valid, Relu>;
type Pool2 = MaxPooling2D<11, 11, 64, 2, 2, 2, 2, 0, 0, 5, 5>;

/// Shard of a training batch of 128 on 2 threads.
const TRAIN: usize = 64;
/// Inference batch sizes: W5 (one sample) and W6.
const INFER: &[usize] = &[1, 256];

fn data(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| rng.uniform_range(-1.0, 1.0)).collect()
}

fn layer<L: Layer>() -> Box<L> {
    let mut l = boxed_zeroed::<L>();
    l.init(&mut Rng::new(1));
    l
}

fn in_len<L: Layer>() -> usize {
    <L::Input as kerust::Shape>::LEN
}

fn out_len<L: Layer>() -> usize {
    <L::Output as kerust::Shape>::LEN
}

/// Inference forward of `batch` samples.
fn forward<L: Layer>(bencher: Bencher, batch: usize) {
    let l = layer::<L>();
    let x = data(batch * in_len::<L>(), 2);
    let mut y = vec![0.0; batch * out_len::<L>()];
    let mut scratch = vec![0.0; batch * L::SCRATCH];
    bencher
        .counter(ItemsCount::new(batch))
        .bench_local(|| l.forward(divan::black_box(&x), &mut y, &mut scratch, batch));
}

/// Training forward of a shard.
fn forward_train<L: Layer>(bencher: Bencher) {
    let l = layer::<L>();
    let x = data(TRAIN * in_len::<L>(), 2);
    let mut y = vec![0.0; TRAIN * out_len::<L>()];
    let mut cache = vec![0.0; TRAIN * L::CACHE];
    let mut rng = Rng::new(3);
    bencher.counter(ItemsCount::new(TRAIN)).bench_local(|| {
        l.forward_train(divan::black_box(&x), &mut y, &mut cache, TRAIN, &mut rng);
    });
}

/// Backward of a shard (after one training forward), with the input gradient when
/// `with_dx` (every layer but the model's first).
fn backward<L: Layer>(bencher: Bencher, with_dx: bool) {
    let l = layer::<L>();
    let mut grads = boxed_zeroed::<L>();
    let x = data(TRAIN * in_len::<L>(), 2);
    let mut y = vec![0.0; TRAIN * out_len::<L>()];
    let mut cache = vec![0.0; TRAIN * L::CACHE];
    l.forward_train(&x, &mut y, &mut cache, TRAIN, &mut Rng::new(3));
    let dy0 = data(TRAIN * out_len::<L>(), 4);
    let mut dy = dy0.clone();
    let mut dx = vec![0.0; TRAIN * in_len::<L>()];
    bencher.counter(ItemsCount::new(TRAIN)).bench_local(|| {
        // `backward` may overwrite `dy` and the cache's scratch part: the cost is the same.
        dy.copy_from_slice(&dy0);
        let dx = with_dx.then_some(dx.as_mut_slice());
        l.backward(
            divan::black_box(&x),
            &y,
            &mut cache,
            &mut dy,
            dx,
            &mut grads,
            TRAIN,
        );
    });
}

mod conv1 {
    use super::*;

    #[divan::bench(args = INFER)]
    fn forward(bencher: Bencher, batch: usize) {
        super::forward::<Conv1>(bencher, batch);
    }

    #[divan::bench]
    fn forward_train(bencher: Bencher) {
        super::forward_train::<Conv1>(bencher);
    }

    /// The model's first layer: no input gradient.
    #[divan::bench]
    fn backward(bencher: Bencher) {
        super::backward::<Conv1>(bencher, false);
    }
}

mod conv2 {
    use super::*;

    #[divan::bench(args = INFER)]
    fn forward(bencher: Bencher, batch: usize) {
        super::forward::<Conv2>(bencher, batch);
    }

    #[divan::bench]
    fn forward_train(bencher: Bencher) {
        super::forward_train::<Conv2>(bencher);
    }

    #[divan::bench]
    fn backward(bencher: Bencher) {
        super::backward::<Conv2>(bencher, true);
    }
}

mod pool1 {
    use super::*;

    #[divan::bench(args = INFER)]
    fn forward(bencher: Bencher, batch: usize) {
        super::forward::<Pool1>(bencher, batch);
    }

    #[divan::bench]
    fn forward_train(bencher: Bencher) {
        super::forward_train::<Pool1>(bencher);
    }

    #[divan::bench]
    fn backward(bencher: Bencher) {
        super::backward::<Pool1>(bencher, true);
    }
}

mod pool2 {
    use super::*;

    #[divan::bench(args = INFER)]
    fn forward(bencher: Bencher, batch: usize) {
        super::forward::<Pool2>(bencher, batch);
    }

    #[divan::bench]
    fn forward_train(bencher: Bencher) {
        super::forward_train::<Pool2>(bencher);
    }

    #[divan::bench]
    fn backward(bencher: Bencher) {
        super::backward::<Pool2>(bencher, true);
    }
}

model! {
    /// W1's MLP.
    pub struct Mlp: Input<784> {
        h1:  Dense(256, activation = relu),
        h2:  Dense(128, activation = relu),
        out: Dense(10),
    }
}

model! {
    /// W2's convnet.
    pub struct ConvNet: Input<28, 28, 1> {
        conv1: Conv2D(32, kernel_size = (3, 3), activation = relu),
        pool1: MaxPooling2D(pool_size = (2, 2)),
        conv2: Conv2D(64, kernel_size = (3, 3), activation = relu),
        pool2: MaxPooling2D(pool_size = (2, 2)),
        flat:  Flatten,
        drop:  Dropout(0.5),
        out:   Dense(10),
    }
}

/// One shard's forward and backward through a whole model (what each thread does per
/// training step, without the loss, the gradient reduction and the optimizer).
fn model_step<M: Model>(bencher: Bencher, model: &M) {
    let x = data(TRAIN * <M::Input as kerust::Shape>::LEN, 2);
    let mut ws = vec![0.0; TRAIN * M::WORKSPACE];
    let out = TRAIN * <M::Output as kerust::Shape>::LEN;
    let dy0 = data(out, 4);
    let mut dy = dy0.clone();
    let mut grads = boxed_zeroed::<M>();
    let mut rng = Rng::new(3);
    bencher.counter(ItemsCount::new(TRAIN)).bench_local(|| {
        model.forward_train(divan::black_box(&x), TRAIN, &mut ws, &mut rng);
        dy.copy_from_slice(&dy0);
        model.backward(&x, TRAIN, &mut ws, &mut dy, &mut grads);
    });
}

/// One Adam update over all of a model's parameters (single-threaded in the trainer).
fn adam_step<M: Model>(bencher: Bencher, model: &M) {
    let mut params = model.flat().to_vec();
    let grads = data(params.len(), 5);
    let mut adam = Adam::new(1e-3);
    bencher
        .counter(ItemsCount::new(params.len()))
        .bench_local(|| adam.step(&mut params, divan::black_box(&grads)));
}

mod w1 {
    use super::*;

    #[divan::bench]
    fn shard_step(bencher: Bencher) {
        model_step(bencher, &*Mlp::new(0));
    }

    /// Items: parameters.
    #[divan::bench]
    fn adam(bencher: Bencher) {
        adam_step(bencher, &*Mlp::new(0));
    }
}

mod w2 {
    use super::*;

    #[divan::bench]
    fn shard_step(bencher: Bencher) {
        model_step(bencher, &*ConvNet::new(0));
    }

    /// Items: parameters.
    #[divan::bench]
    fn adam(bencher: Bencher) {
        adam_step(bencher, &*ConvNet::new(0));
    }
}
