//! The [`Model`] trait that `model!` implements for every declared network.

use crate::{Params, Rng, Shape};

/// The visitor passed to [`Model::visit_params`]: `(layer, parameter, shape, values)`.
pub type ModelParamVisitor<'a> = dyn FnMut(&str, &str, &[usize], &[f32]) + 'a;

/// Scratch buffers of a single-sample `forward` larger than this many `f32` values (1 MiB)
/// are put on the heap when the `alloc` feature is on.
pub const STACK_SCRATCH_LIMIT: usize = 1 << 18;

/// Runs `f` on the calling thread's inference scratch of at least `len` values, kept from
/// call to call (zeroed once, when it grows; its contents are whatever the last call left,
/// which every layer overwrites before reading). Returns `false`, without calling `f`, when
/// the buffer is in use (a re-entrant call) or the thread is being torn down: the caller
/// then uses a buffer of its own.
///
/// This is how the generated single-sample `forward` avoids filling a fresh buffer on
/// every call: for a small convnet that fill is a few percent of the latency.
///
/// ```
/// let mut seen = 0;
/// assert!(kerust::model::with_thread_scratch(100, |s| seen = s.len()));
/// assert!(seen >= 100);
/// ```
#[cfg(feature = "std")]
pub fn with_thread_scratch(len: usize, f: impl FnOnce(&mut [f32])) -> bool {
    use core::cell::RefCell;
    std::thread_local! {
        static SCRATCH: RefCell<alloc::vec::Vec<f32>> = const { RefCell::new(alloc::vec::Vec::new()) };
    }
    SCRATCH
        .try_with(|cell| {
            let Ok(mut buf) = cell.try_borrow_mut() else {
                return false;
            };
            if buf.len() < len {
                buf.resize(len, 0.0);
            }
            f(&mut buf[..len]);
            true
        })
        .unwrap_or(false)
}

/// One row of a model's summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerInfo {
    /// The layer's name (its field in the model struct).
    pub name: &'static str,
    /// Keras's class name of the layer (`"Dense"`, `"Dropout"`, ...).
    pub kind: &'static str,
    /// The per-sample output shape.
    pub output_shape: &'static [usize],
    /// The number of parameters, trainable or not (as Keras's summary counts them).
    pub params: usize,
    /// The layer's call in `model!` syntax with every argument resolved and defaults left
    /// out, e.g. `Dense(128, activation = relu)`: the same layer always reads the same.
    pub describe: &'static str,
    /// For a functional model, the nodes each call of the layer takes, as Keras's summary
    /// writes them (`conv1[0][0]`: layer `conv1`, its first call, its only output); empty
    /// for sequential models, whose layers take the previous one's output.
    pub connected_to: &'static [&'static str],
}

/// One input or output of a model: its place in the flat per-sample row.
///
/// A model with several inputs (outputs) takes (gives) each sample as one flat row, the
/// inputs' (outputs') values side by side in declaration order; `offset` and `len` say
/// where this one is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TensorInfo {
    /// The node's name (for a sequential model: `"input"`, and the last layer's name).
    pub name: &'static str,
    /// The per-sample shape.
    pub shape: &'static [usize],
    /// Where its values start in the per-sample row.
    pub offset: usize,
    /// How many values it has per sample.
    pub len: usize,
}

/// A statically shaped network, implemented by `model!`.
///
/// Buffers are flat, row-major slices over a run-time batch: inputs hold
/// `batch * Input::LEN` values, outputs `batch * Output::LEN`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a kerust model",
    note = "declare models with `kerust::model!`"
)]
pub trait Model: Params + Send + Sync + 'static {
    /// The shape of one input sample.
    type Input: Shape;
    /// The shape of one output sample.
    type Output: Shape;
    /// The model's name, as declared.
    const NAME: &'static str;
    /// The layers, in order, for summaries.
    const LAYERS: &'static [LayerInfo];
    /// The inputs, in order; their values lie side by side in each row of
    /// [`Model::Input`].
    const INPUTS: &'static [TensorInfo];
    /// The outputs, in order; their values lie side by side in each row of
    /// [`Model::Output`].
    const OUTPUTS: &'static [TensorInfo];
    /// Per-sample `f32` values of the training workspace ([`Model::forward_train`]).
    const WORKSPACE: usize;
    /// Per-sample `f32` values of the inference scratch ([`Model::forward_batch`]).
    const SCRATCH: usize;
    /// Whether a layer needs whole-batch statistics in training (see
    /// [`Layer::BATCH_STATS`](crate::Layer::BATCH_STATS)).
    const WHOLE_BATCH: bool;
    /// `(start, len)` ranges of the flat parameters that are not trainable.
    const NON_TRAINABLE: &'static [(usize, usize)];

    /// Initialises every layer with Keras's default initialisers from `rng`.
    fn init_with(&mut self, rng: &mut Rng);

    /// Inference forward pass of `batch` samples; `scratch` holds `batch * SCRATCH` values.
    fn forward_batch(&self, x: &[f32], y: &mut [f32], batch: usize, scratch: &mut [f32]);

    /// Training forward pass of `batch` samples into the workspace `ws`
    /// (`batch * WORKSPACE` values); the output is then at [`Model::train_output`].
    fn forward_train(&self, x: &[f32], batch: usize, ws: &mut [f32], rng: &mut Rng);

    /// The output of the last [`Model::forward_train`] in `ws`.
    fn train_output(ws: &[f32], batch: usize) -> &[f32];

    /// Backward pass after [`Model::forward_train`] with the same `x`, `batch` and `ws`.
    /// `dy` holds dL/d(output) and is overwritten; parameter gradients are *added* to `grads`.
    fn backward(&self, x: &[f32], batch: usize, ws: &mut [f32], dy: &mut [f32], grads: &mut Self) {
        self.backward_input(x, batch, ws, dy, None, grads);
    }

    /// [`Model::backward`] with the gradients *written* to `grads` rather than added (its
    /// contents on entry are arbitrary): what a training step wants. The default zeroes
    /// `grads` first; `model!`'s sequential models pass the request on to each layer
    /// ([`Layer::backward_fresh`](crate::Layer::backward_fresh)).
    fn backward_fresh(&self, x: &[f32], batch: usize, ws: &mut [f32], dy: &mut [f32], grads: &mut Self) {
        grads.zero();
        self.backward(x, batch, ws, dy, grads);
    }

    /// [`Model::backward`], also writing dL/dx to `dx` when it is given (`batch` rows of
    /// [`Model::Input`]): what a model used as a layer needs.
    fn backward_input(
        &self,
        x: &[f32],
        batch: usize,
        ws: &mut [f32],
        dy: &mut [f32],
        dx: Option<&mut [f32]>,
        grads: &mut Self,
    );

    /// Updates non-trainable state (moving statistics) after a training step on a whole
    /// batch whose workspace is `ws`.
    fn update_state(&mut self, ws: &[f32], batch: usize);

    /// Calls `f(layer, parameter, shape, values)` for every parameter tensor, in storage order.
    fn visit_params(&self, f: &mut ModelParamVisitor<'_>);
}

/// Copies, for each of `batch` rows of `row` values in `rows`, the `len` values at `offset`
/// into `out` (sample after sample): one input of a model with several.
#[doc(hidden)]
pub fn gather_rows(rows: &[f32], row: usize, offset: usize, len: usize, out: &mut [f32], batch: usize) {
    for (dst, src) in out[..batch * len]
        .chunks_exact_mut(len)
        .zip(rows.chunks_exact(row))
    {
        dst.copy_from_slice(&src[offset..offset + len]);
    }
}

/// The inverse of [`gather_rows`]: writes `src` (sample after sample, `len` values each) at
/// `offset` in each of `batch` rows of `row` values in `rows`.
#[doc(hidden)]
pub fn scatter_rows(src: &[f32], row: usize, offset: usize, len: usize, rows: &mut [f32], batch: usize) {
    for (dst, s) in rows[..batch * row]
        .chunks_exact_mut(row)
        .zip(src.chunks_exact(len))
    {
        dst[offset..offset + len].copy_from_slice(s);
    }
}

/// `dst += src`, element-wise: gradients meeting where a node feeds several others.
#[doc(hidden)]
pub fn add_assign(dst: &mut [f32], src: &[f32]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d += s;
    }
}

/// The total length of `parts`, for [`concat_ranges`].
#[doc(hidden)]
pub const fn ranges_len(parts: &[&[(usize, usize)]]) -> usize {
    let (mut n, mut i) = (0, 0);
    while i < parts.len() {
        n += parts[i].len();
        i += 1;
    }
    n
}

/// The ranges of `parts`, each shifted by its offset: a model's non-trainable ranges from its
/// layers' (evaluated at compile time).
#[doc(hidden)]
pub const fn concat_ranges<const N: usize>(
    parts: &[&[(usize, usize)]],
    offsets: &[usize],
) -> [(usize, usize); N] {
    let mut out = [(0, 0); N];
    let (mut k, mut i) = (0, 0);
    while i < parts.len() {
        let mut j = 0;
        while j < parts[i].len() {
            out[k] = (parts[i][j].0 + offsets[i], parts[i][j].1);
            k += 1;
            j += 1;
        }
        i += 1;
    }
    out
}

/// A `layer/param` name joined on the stack (no heap): how a model used as a layer names
/// its parameters. Names longer than 256 bytes are cut at a character boundary.
#[doc(hidden)]
pub struct JoinedName {
    buf: [u8; 256],
    len: usize,
}

impl JoinedName {
    /// `a/b`.
    pub fn new(a: &str, b: &str) -> Self {
        let mut name = JoinedName {
            buf: [0; 256],
            len: 0,
        };
        name.push(a);
        name.push("/");
        name.push(b);
        name
    }

    fn push(&mut self, s: &str) {
        let room = self.buf.len() - self.len;
        let mut take = s.len().min(room);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        self.buf[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
    }

    /// The joined name.
    pub fn as_str(&self) -> &str {
        // Only whole characters of `str`s were copied.
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

/// Implemented by every layer for exactly its input and output shapes: the generated code
/// of a functional model checks each layer against the shapes `model!` inferred.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "the layer `{Self}` does not take `{I}` to `{O}`, the shapes `model!` inferred for it",
    note = "a nested `Model(Type)` is taken to keep its input's shape; give its output shape with `Model(Type, output = (...))`"
)]
pub trait LayerShapes<I, O> {}

impl<L: crate::Layer> LayerShapes<L::Input, L::Output> for L {}
