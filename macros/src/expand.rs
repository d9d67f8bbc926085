//! Writes the model: the struct, its `Params` and `Model` impls, and inherent helpers.
//! Pure code generation; every check happened in `check`.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::ir::Model;
use crate::layers::shape_type;

pub fn model(m: &Model) -> TokenStream {
    let def = m.def;
    let attrs = &def.attrs;
    let vis = &def.vis;
    let name = &def.name;
    let name_str = name.to_string();
    let kr = quote!(::kerust::__private);

    let fields: Vec<&Ident> = m.layers.iter().map(|l| &l.decl.name).collect();
    let tys: Vec<&TokenStream> = m.layers.iter().map(|l| &l.ty).collect();
    let field_attrs: Vec<TokenStream> = m
        .layers
        .iter()
        .map(|l| {
            field_docs(
                &l.decl.attrs,
                &format!("Layer `{}`: {}.", l.decl.name, l.describe),
            )
        })
        .collect();
    let in_ty = shape_type(&m.input);
    // `check` never returns a model without layers.
    let (Some(first), Some(last)) = (m.layers.first(), m.layers.last()) else {
        return TokenStream::new();
    };
    let out_shape = &last.output;
    let out_ty = shape_type(out_shape);
    let outs: Vec<usize> = m.layers.iter().map(|l| l.output_len).collect();
    let n = m.layers.len();

    // At inference, a layer followed by a `MaxPooling2D` runs as one step with it
    // (`Layer::forward_max_pooled`): its own output, where it needs one, lies in the layer
    // scratch.
    // Paired left to right: a pooling already run in its predecessor's step is not paired
    // with the pooling after it.
    let mut pooled = vec![false; n];
    // Likewise two `Dense` layers in a row (`Dense::forward_chain`): the first's output
    // lies in the layer scratch, then room for the second's.
    let mut chained = vec![false; n];
    for i in 0..n.saturating_sub(1) {
        let free = !(i > 0 && (pooled[i - 1] || chained[i - 1]));
        pooled[i] = free
            && m.layers[i + 1].kind == "MaxPooling2D"
            && !passes_through(&m.layers[i].decl.kind.to_string());
        chained[i] = free && m.layers[i].kind == "Dense" && m.layers[i + 1].kind == "Dense";
    }
    let inner: Vec<bool> = pooled.iter().zip(&chained).map(|(&p, &c)| p || c).collect();
    // Inference ping-pong scratch: the widest output except the last one and those that
    // stay inside a paired step. `check` bounds every length by `isize::MAX / 8`, so
    // doubling cannot overflow.
    let max_mid = outs[..n - 1]
        .iter()
        .zip(&inner)
        .filter(|&(_, &p)| !p)
        .map(|(&len, _)| len)
        .max()
        .unwrap_or(0);
    let scratch = 2 * max_mid;
    // Backward ping-pong gradients: the widest input except the first layer's.
    let max_grad = m.layers.iter().skip(1).map(|l| l.input_len).max().unwrap_or(0);

    let doc_arch = {
        let mut s = format!("Input {:?}", m.input);
        for l in &m.layers {
            s += &format!(" → `{}`: {}", l.decl.name, l.describe);
        }
        format!(" Architecture: {s}. Output {out_shape:?}.")
    };

    // Layer table for summaries.
    let infos = m.layers.iter().map(|l| {
        let lname = l.decl.name.to_string();
        let kind = if l.kind == "Model" { "Functional" } else { l.kind };
        let dims = &l.output;
        let ty = &l.ty;
        let describe = &l.describe;
        quote! {
            #kr::LayerInfo {
                name: #lname,
                kind: #kind,
                output_shape: &[#(#dims),*],
                params: <#ty as #kr::Params>::COUNT,
                describe: #describe,
                connected_to: &[],
            }
        }
    });

    // Static composition check: rustc verifies each layer's output type is the next
    // layer's input type, spanned at the later layer.
    let compose_checks = m.layers.windows(2).map(|w| {
        let (a, b) = (&w[0].ty, &w[1].ty);
        let span = w[1].decl.call_tokens.span();
        quote_spanned! {span=> __compose::<#a, #b>(); }
    });
    let first_ty = &first.ty;
    let last_ty = &last.ty;

    // Scratch: the two ping-pong buffers, then the largest per-layer scratch (with the
    // layer's output for a layer pooled in the same step, and both outputs for two chained
    // `Dense` layers).
    let scratch_expr = {
        let needs = m.layers.iter().enumerate().zip(&outs).map(|((i, l), &len)| {
            let ty = &l.ty;
            if pooled[i] {
                quote!(#len + <#ty as #kr::Layer>::SCRATCH)
            } else if chained[i] {
                let next = outs[i + 1];
                quote!(#len + #next)
            } else {
                quote!(<#ty as #kr::Layer>::SCRATCH)
            }
        });
        quote! {{
            let mut __max = 0usize;
            #(
                let __need = #needs;
                if __need > __max {
                    __max = __need;
                }
            )*
            #scratch + __max
        }}
    };

    // Inference forward.
    let fwd = {
        let mut body = TokenStream::new();
        if n > 1 {
            body.extend(quote! {
                let (__s0, __rest) = scratch.split_at_mut(batch * #max_mid);
                let (__s1, __ls) = __rest.split_at_mut(batch * #max_mid);
            });
        } else {
            body.extend(quote! { let __ls = scratch; });
        }
        // Which ping-pong buffer holds the current values (`None`: still `x`). Layers that
        // pass their input through unchanged at inference (Flatten, Reshape, Dropout) are
        // skipped rather than copied, unless they write the model's output.
        let mut cur: Option<usize> = None;
        for (i, l) in m.layers.iter().enumerate() {
            let f = &l.decl.name;
            if i + 1 < n && passes_through(&l.decl.kind.to_string()) {
                continue;
            }
            // A `MaxPooling2D` or `Dense` ran in the step of the layer before it.
            if i > 0 && inner[i - 1] {
                continue;
            }
            // The layer whose output this step writes.
            let last = if inner[i] { i + 1 } else { i };
            let x = match cur {
                None => quote!(x),
                Some(b) => {
                    let buf = ping(b);
                    let len = outs[i - 1];
                    quote!(&#buf[..batch * #len])
                }
            };
            let y = if last == n - 1 {
                let len = outs[last];
                quote!(&mut y[..batch * #len])
            } else {
                let next = cur.map_or(0, |b| b + 1);
                cur = Some(next);
                let buf = ping(next);
                let len = outs[last];
                quote!(&mut #buf[..batch * #len])
            };
            if pooled[i] {
                let pool = &m.layers[i + 1].ty;
                body.extend(quote! {
                    #kr::Layer::forward_max_pooled(&self.#f, &<#pool>::WINDOWS, #x, #y, &mut *__ls, batch);
                });
            } else if chained[i] {
                let (ty, f2) = (&l.ty, &m.layers[i + 1].decl.name);
                body.extend(quote! {
                    <#ty>::forward_chain(&self.#f, &self.#f2, #x, #y, &mut *__ls, batch);
                });
            } else {
                body.extend(quote! { #kr::Layer::forward(&self.#f, #x, #y, &mut *__ls, batch); });
            }
        }
        if n > 1 {
            body.extend(quote! { let _ = (&__s0, &__s1); });
        }
        body
    };

    // Workspace layout: [out_0, cache_0, out_1, cache_1, ..., grad_a, grad_b].
    let splits = {
        let mut s = TokenStream::new();
        for (i, l) in m.layers.iter().enumerate() {
            let (o, c) = (format_ident!("__o{}", i), format_ident!("__c{}", i));
            let len = outs[i];
            let ty = &l.ty;
            s.extend(quote! {
                let (#o, __ws) = __ws.split_at_mut(batch * #len);
                let (#c, __ws) = __ws.split_at_mut(batch * <#ty as #kr::Layer>::CACHE);
            });
        }
        s
    };
    let splits_ro = {
        let mut s = TokenStream::new();
        for (i, l) in m.layers.iter().enumerate() {
            let (o, c) = (format_ident!("__o{}", i), format_ident!("__c{}", i));
            let len = outs[i];
            let ty = &l.ty;
            s.extend(quote! {
                let (#o, __ws) = __ws.split_at(batch * #len);
                let (#c, __ws) = __ws.split_at(batch * <#ty as #kr::Layer>::CACHE);
            });
        }
        s
    };
    let update_states = m.layers.iter().enumerate().map(|(i, l)| {
        let f = &l.decl.name;
        let c = format_ident!("__c{}", i);
        quote! { #kr::Layer::update_state(&mut self.#f, #c, batch); }
    });
    let non_trainable = non_trainable(&tys);
    let fwd_train = m.layers.iter().enumerate().map(|(i, l)| {
        let f = &l.decl.name;
        let (o, c) = (format_ident!("__o{}", i), format_ident!("__c{}", i));
        let x = if i == 0 {
            quote!(x)
        } else {
            let p = format_ident!("__o{}", i - 1);
            quote!(&*#p)
        };
        quote! { #kr::Layer::forward_train(&self.#f, #x, #o, #c, batch, rng); }
    });
    let out_len = last.output_len;
    let in_dims = &m.input;
    let last_name = last.decl.name.to_string();
    let out_offset = {
        let terms = m.layers.iter().enumerate().map(|(i, l)| {
            let ty = &l.ty;
            let len = outs[i];
            if i == n - 1 {
                quote!(0)
            } else {
                quote!(#len + <#ty as #kr::Layer>::CACHE)
            }
        });
        quote!(0 #(+ #terms)*)
    };
    // The backward pass; `fresh`: each layer writes its gradients rather than adding
    // (every layer of a sequential model runs once per step), and no dL/dx.
    let bwd_body = |fresh: bool| {
        let mut s = TokenStream::new();
        if n > 1 {
            s.extend(quote! {
                let (__g0, __ws) = __ws.split_at_mut(batch * #max_grad);
                let (__g1, _) = __ws.split_at_mut(batch * #max_grad);
            });
        }
        for (i, l) in m.layers.iter().enumerate().rev() {
            let f = &l.decl.name;
            let (o, c) = (format_ident!("__o{}", i), format_ident!("__c{}", i));
            let x = if i == 0 {
                quote!(x)
            } else {
                let p = format_ident!("__o{}", i - 1);
                quote!(&*#p)
            };
            let dy = if i == n - 1 {
                quote!(&mut dy[..batch * #out_len])
            } else {
                let g = grad_buf(n - 2 - i);
                let len = outs[i];
                quote!(&mut #g[..batch * #len])
            };
            let dx = if i == 0 {
                if fresh {
                    quote!(::core::option::Option::None)
                } else {
                    quote!(dx)
                }
            } else {
                let g = grad_buf(n - 1 - i);
                let len = l.input_len;
                quote!(::core::option::Option::Some(&mut #g[..batch * #len]))
            };
            if !fresh {
                s.extend(
                    quote! { #kr::Layer::backward(&self.#f, #x, &*#o, #c, #dy, #dx, &mut grads.#f, batch); },
                );
                continue;
            }
            // A ReLU layer followed by one that applies the ReLU's gradient as it writes its
            // own input gradient (max pooling): the pair skips a pass over the activations.
            // Both conditions are constants, so only one call remains.
            let ty = &l.ty;
            let fuse_in = match i.checked_sub(1) {
                Some(p) => {
                    let prev = &m.layers[p].ty;
                    quote!(<#prev as #kr::Layer>::RELU_OUTPUT && <#ty as #kr::Layer>::MASKS_RELU_INPUT)
                }
                None => quote!(false),
            };
            let fuse_out = match m.layers.get(i + 1) {
                Some(next) => {
                    let next = &next.ty;
                    quote!(<#ty as #kr::Layer>::RELU_OUTPUT && <#next as #kr::Layer>::MASKS_RELU_INPUT)
                }
                None => quote!(false),
            };
            s.extend(quote! {
                if #fuse_in {
                    #kr::Layer::backward_fresh_relu_input(&self.#f, #x, &*#o, #c, #dy, #dx, &mut grads.#f, batch);
                } else if #fuse_out {
                    #kr::Layer::backward_fresh_premasked(&self.#f, #x, &*#o, #c, #dy, #dx, &mut grads.#f, batch);
                } else {
                    #kr::Layer::backward_fresh(&self.#f, #x, &*#o, #c, #dy, #dx, &mut grads.#f, batch);
                }
            });
        }
        s
    };
    let bwd = bwd_body(false);
    let bwd_fresh = bwd_body(true);
    let workspace = {
        let terms = m.layers.iter().enumerate().map(|(i, l)| {
            let ty = &l.ty;
            let len = outs[i];
            quote!(#len + <#ty as #kr::Layer>::CACHE)
        });
        let grads = if n > 1 { 2 * max_grad } else { 0 };
        quote!(#grads #(+ #terms)*)
    };
    // `forward` and its argument carry the span of `Input<...>`: a call with the wrong
    // sample type then gets rustc's "method defined here" note at the declared shape.
    let input_span = def.input.keyword.span();
    let forward = Ident::new("forward", input_span);
    let x = Ident::new("x", input_span);
    let in_ty_at_input = respan(in_ty.clone(), input_span);

    let common = inherent_items(name);
    let visits = fields.iter().map(|f| {
        let fname = f.to_string();
        quote! { #kr::Layer::visit_params(&self.#f, &mut |p, s, v| f(#fname, p, s, v)); }
    });

    quote! {
        #(#attrs)*
        #[doc = ""]
        #[doc = #doc_arch]
        #[repr(C)]
        #vis struct #name {
            #(
                #field_attrs
                pub #fields: #tys,
            )*
        }

        #[automatically_derived]
        const _: () = {
            fn __compose<A: #kr::Layer, B: #kr::Layer>()
            where
                <A as #kr::Layer>::Output: #kr::shape::SameShape<<B as #kr::Layer>::Input>,
            {
            }
            #[allow(dead_code)]
            fn __check_composition() {
                #(#compose_checks)*
            }

            // SAFETY: `#[repr(C)]` struct of `Params` fields only; `Params::flat` asserts
            // at compile time that the size is exactly `4 * COUNT` bytes.
            unsafe impl #kr::Params for #name {
                const COUNT: usize = 0 #(+ <#tys as #kr::Params>::COUNT)*;
                const ZERO: Self = #name { #(#fields: <#tys as #kr::Params>::ZERO),* };
            }

            impl #kr::Model for #name {
                type Input = #in_ty;
                type Output = #out_ty;
                const NAME: &'static str = #name_str;
                const LAYERS: &'static [#kr::LayerInfo] = &[#(#infos),*];
                const INPUTS: &'static [#kr::model::TensorInfo] = &[#kr::model::TensorInfo {
                    name: "input",
                    shape: &[#(#in_dims),*],
                    offset: 0,
                    len: <#in_ty as #kr::Shape>::LEN,
                }];
                const OUTPUTS: &'static [#kr::model::TensorInfo] = &[#kr::model::TensorInfo {
                    name: #last_name,
                    shape: &[#(#out_shape),*],
                    offset: 0,
                    len: #out_len,
                }];
                const WORKSPACE: usize = #workspace;
                const SCRATCH: usize = #scratch_expr;
                const WHOLE_BATCH: bool = false #(|| <#tys as #kr::Layer>::BATCH_STATS)*;
                const NON_TRAINABLE: &'static [(usize, usize)] = #non_trainable;

                fn init_with(&mut self, rng: &mut #kr::Rng) {
                    #(#kr::Layer::init(&mut self.#fields, rng);)*
                }

                #[allow(clippy::needless_borrow)]
                fn forward_batch(&self, x: &[f32], y: &mut [f32], batch: usize, scratch: &mut [f32]) {
                    let _ = &scratch;
                    #fwd
                }

                fn forward_train(&self, x: &[f32], batch: usize, ws: &mut [f32], rng: &mut #kr::Rng) {
                    let __ws = ws;
                    #splits
                    let _ = __ws;
                    #(#fwd_train)*
                }

                fn train_output(ws: &[f32], batch: usize) -> &[f32] {
                    let start = batch * (#out_offset);
                    &ws[start..start + batch * #out_len]
                }

                fn backward_input(
                    &self,
                    x: &[f32],
                    batch: usize,
                    ws: &mut [f32],
                    dy: &mut [f32],
                    dx: ::core::option::Option<&mut [f32]>,
                    grads: &mut Self,
                ) {
                    let __ws = ws;
                    #splits
                    #bwd
                }

                fn backward_fresh(&self, x: &[f32], batch: usize, ws: &mut [f32], dy: &mut [f32], grads: &mut Self) {
                    let __ws = ws;
                    #splits
                    #bwd_fresh
                }

                #[allow(unused_variables)]
                fn update_state(&mut self, ws: &[f32], batch: usize) {
                    let __ws = ws;
                    #splits_ro
                    #(#update_states)*
                }

                fn visit_params(&self, f: &mut #kr::model::ModelParamVisitor<'_>) {
                    #(#visits)*
                }
            }
        };

        #[automatically_derived]
        #[allow(dead_code)]
        impl #name {
            /// The number of trainable parameters.
            pub const PARAM_COUNT: usize = <Self as #kr::Params>::COUNT;

            /// The model with every parameter zero; `static` models start from this.
            pub const ZERO: Self = <Self as #kr::Params>::ZERO;

            /// (Re)initialises every layer with Keras's default initialisers (Glorot
            /// uniform kernels, zero biases), seeded.
            pub fn init(&mut self, seed: u64) {
                #kr::Model::init_with(self, &mut #kr::Rng::new(seed));
            }

            /// Runs one sample through the network (inference mode). With `std`, the
            /// intermediate buffers are the calling thread's, kept from call to call;
            /// without, they live on the stack, so no heap is needed (with `alloc`, buffers
            /// larger than 1 MiB go to the heap instead, to spare small thread stacks).
            pub fn #forward(&self, #x: &#in_ty_at_input) -> #out_ty {
                let mut y: #out_ty = <#out_ty as #kr::Shape>::ZERO;
                self.__forward_one(#kr::Shape::as_flat(#x), #kr::Shape::as_flat_mut(&mut y));
                y
            }

        }

        #common
        #[allow(dead_code)]
        const _: fn() = || {
            let _ = (::core::marker::PhantomData::<#first_ty>, ::core::marker::PhantomData::<#last_ty>);
        };
    }
}

/// Whether a layer of this kind passes its values through unchanged at inference (the same
/// flat values, whatever the shape).
fn passes_through(kind: &str) -> bool {
    matches!(kind, "Flatten" | "Reshape" | "Dropout")
}

fn ping(i: usize) -> Ident {
    Ident::new(
        if i.is_multiple_of(2) { "__s0" } else { "__s1" },
        Span::call_site(),
    )
}

fn grad_buf(i: usize) -> Ident {
    Ident::new(
        if i.is_multiple_of(2) { "__g0" } else { "__g1" },
        Span::call_site(),
    )
}

/// `tokens` with every span set to `span`.
pub fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tt| {
            if let proc_macro2::TokenTree::Group(g) = &tt {
                let mut group = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                tt = proc_macro2::TokenTree::Group(group);
            } else {
                tt.set_span(span);
            }
            tt
        })
        .collect()
}

/// `NON_TRAINABLE` of a model whose fields have types `tys`: each field's ranges, shifted by
/// the parameters before it, computed at compile time.
pub fn non_trainable(tys: &[&TokenStream]) -> TokenStream {
    let kr = quote!(::kerust::__private);
    let offsets = (0..tys.len()).map(|i| {
        let before = &tys[..i];
        quote!(0 #(+ <#before as #kr::Params>::COUNT)*)
    });
    quote! {{
        const PARTS: &[&[(usize, usize)]] = &[#(<#tys as #kr::Layer>::NON_TRAINABLE_RANGES),*];
        const N: usize = #kr::model::ranges_len(PARTS);
        const RANGES: [(usize, usize); N] = #kr::model::concat_ranges::<N>(PARTS, &[#(#offsets),*]);
        &RANGES
    }}
}

/// A field's attributes; when they hold no doc comment, a generated one (`fallback`), so that
/// models compile under `#![deny(missing_docs)]` without a comment on every layer.
pub fn field_docs(attrs: &[syn::Attribute], fallback: &str) -> TokenStream {
    let has_doc = attrs.iter().any(|a| a.path().is_ident("doc"));
    let doc = (!has_doc).then(|| quote!(#[doc = #fallback]));
    quote!(#(#attrs)* #doc)
}

/// What every model has besides its forward pass: the single-sample helper, flat parameter
/// views and, with `alloc`, `new`.
pub fn inherent_items(name: &Ident) -> TokenStream {
    let kr = quote!(::kerust::__private);
    quote! {
        #[automatically_derived]
        #[allow(dead_code)]
        impl #name {
            /// One sample's inference: the thread's scratch (`std`), else the heap for
            /// large buffers (`alloc`), else the stack.
            #[doc(hidden)]
            fn __forward_one(&self, x: &[f32], y: &mut [f32]) {
                #kr::if_std! {
                    if #kr::model::with_thread_scratch(<Self as #kr::Model>::SCRATCH, |scratch| {
                        #kr::Model::forward_batch(self, x, y, 1, scratch)
                    }) {
                        return;
                    }
                }
                #kr::if_alloc! {
                    if <Self as #kr::Model>::SCRATCH > #kr::model::STACK_SCRATCH_LIMIT {
                        let mut scratch = #kr::alloc::vec![0.0f32; <Self as #kr::Model>::SCRATCH];
                        #kr::Model::forward_batch(self, x, y, 1, &mut scratch);
                        return;
                    }
                }
                self.__forward_on_stack(x, y);
            }

            #[inline(never)]
            #[doc(hidden)]
            fn __forward_on_stack(&self, x: &[f32], y: &mut [f32]) {
                let mut scratch = [0.0f32; <Self as #kr::Model>::SCRATCH];
                #kr::Model::forward_batch(self, x, y, 1, &mut scratch);
            }

            /// All parameters as one flat slice.
            pub fn params(&self) -> &[f32] {
                #kr::Params::flat(self)
            }

            /// All parameters as one flat mutable slice.
            pub fn params_mut(&mut self) -> &mut [f32] {
                #kr::Params::flat_mut(self)
            }
        }

        #kr::if_alloc! {
            #[automatically_derived]
            #[allow(dead_code)]
            impl #name {
                /// A new model on the heap, initialised with Keras's defaults from `seed`.
                pub fn new(seed: u64) -> #kr::alloc::boxed::Box<Self> {
                    let mut model = #kr::params::boxed_zeroed::<Self>();
                    model.init(seed);
                    model
                }
            }
        }
    }
}
