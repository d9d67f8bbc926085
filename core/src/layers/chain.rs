//! `Chain`: composes two layers by hand, with the shapes checked by the type system.

use alloc::vec;

use crate::shape::SameShape;
use crate::{Layer, Params, Rng, Shape};

/// `b ∘ a`: the output of `a` feeds `b`. Composing layers whose shapes differ is a compile
/// error, without the `model!` macro:
///
/// ```
/// use kerust::layers::{chain, Chain, Dense};
/// use kerust::activations::Relu;
/// type Mlp = Chain<Dense<4, 8, Relu>, Dense<8, 2>>;
/// let _net: Box<Mlp> = kerust::params::boxed_zeroed();
/// ```
///
/// ```compile_fail,E0277
/// use kerust::layers::{Chain, Dense};
/// type Bad = Chain<Dense<4, 8>, Dense<9, 2>>; // 8 outputs into 9 inputs
/// let _net: Box<Bad> = kerust::params::boxed_zeroed();
/// ```
///
/// # Shapes
/// - input: `A::Input`
/// - output: `B::Output`
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Chain<A: Layer, B: Layer>
where
    A::Output: SameShape<B::Input>,
{
    /// The first layer.
    pub a: A,
    /// The second layer.
    pub b: B,
}

/// Composes two layers (see [`Chain`]).
pub fn chain<A: Layer, B: Layer>(a: A, b: B) -> Chain<A, B>
where
    A::Output: SameShape<B::Input>,
{
    Chain { a, b }
}

// SAFETY: repr(C) of two Params blocks, both f32-aligned or zero-sized; `flat` checks size.
unsafe impl<A: Layer, B: Layer> Params for Chain<A, B>
where
    A::Output: SameShape<B::Input>,
{
    const COUNT: usize = A::COUNT + B::COUNT;
    const ZERO: Self = Chain {
        a: A::ZERO,
        b: B::ZERO,
    };
}

impl<A: Layer, B: Layer> Layer for Chain<A, B>
where
    A::Output: SameShape<B::Input>,
{
    type Input = A::Input;
    type Output = B::Output;
    const KIND: &'static str = "Chain";
    const CACHE: usize = A::CACHE + <A::Output as Shape>::LEN + B::CACHE;
    const SCRATCH: usize = <A::Output as Shape>::LEN
        + if A::SCRATCH > B::SCRATCH {
            A::SCRATCH
        } else {
            B::SCRATCH
        };

    fn init(&mut self, rng: &mut Rng) {
        self.a.init(rng);
        self.b.init(rng);
    }

    fn forward(&self, x: &[f32], y: &mut [f32], scratch: &mut [f32], batch: usize) {
        let (mid, rest) = scratch.split_at_mut(batch * <A::Output as Shape>::LEN);
        self.a.forward(x, mid, rest, batch);
        self.b.forward(mid, y, rest, batch);
    }

    fn forward_train(&self, x: &[f32], y: &mut [f32], cache: &mut [f32], batch: usize, rng: &mut Rng) {
        let (ca, rest) = cache.split_at_mut(batch * A::CACHE);
        let (mid, cb) = rest.split_at_mut(batch * <A::Output as Shape>::LEN);
        self.a.forward_train(x, mid, ca, batch, rng);
        self.b.forward_train(mid, y, cb, batch, rng);
    }

    fn backward(
        &self,
        x: &[f32],
        y: &[f32],
        cache: &mut [f32],
        dy: &mut [f32],
        dx: Option<&mut [f32]>,
        grads: &mut Self,
        batch: usize,
    ) {
        let (ca, rest) = cache.split_at_mut(batch * A::CACHE);
        let (mid, cb) = rest.split_at_mut(batch * <A::Output as Shape>::LEN);
        let mut dmid = vec![0.0; mid.len()];
        self.b
            .backward(mid, y, cb, dy, Some(&mut dmid), &mut grads.b, batch);
        self.a.backward(x, mid, ca, &mut dmid, dx, &mut grads.a, batch);
    }

    fn visit_params(&self, f: &mut crate::layer::ParamVisitor<'_>) {
        self.a.visit_params(f);
        self.b.visit_params(f);
    }
}
