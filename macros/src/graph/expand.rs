//! Writes a functional model: the struct of its layers, and forward and backward code for
//! its graph. Nodes run in the checked order; in the backward pass, a node that feeds
//! several others receives the sum of their gradients (the first is written in place, the
//! others through a temporary buffer and added).

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use super::check::{Graph, Merge, Op};
use crate::layers::shape_type;

/// Where a node's values are, in a generated function.
fn out_buf(g: &Graph, n: usize) -> TokenStream {
    match g.nodes[n].op {
        Op::Input(_) if g.inputs.len() == 1 => quote!(x),
        _ => {
            let id = format_ident!("__o{}", n);
            quote!(#id)
        }
    }
}

fn cache_buf(n: usize) -> Ident {
    format_ident!("__c{}", n)
}

fn grad_buf(n: usize) -> Ident {
    format_ident!("__g{}", n)
}

pub fn model(g: &Graph) -> TokenStream {
    let def = g.def;
    let kr = quote!(::kerust::__private);
    let attrs = &def.attrs;
    let vis = &def.vis;
    let name = &def.name;
    let name_str = name.to_string();

    let fields: Vec<&Ident> = g.fields.iter().map(|f| &f.name).collect();
    let tys: Vec<&TokenStream> = g.fields.iter().map(|f| &f.ty).collect();
    let field_attrs: Vec<TokenStream> = g
        .fields
        .iter()
        .map(|f| {
            let calls: Vec<String> = f
                .calls
                .iter()
                .map(|&c| format!("`{}`", g.nodes[c].name))
                .collect();
            let doc = format!(
                "Layer `{}`: {}, computing {}.",
                f.name,
                f.describe,
                calls.join(" and ")
            );
            crate::expand::field_docs(&f.attrs, &doc)
        })
        .collect();

    let nodes = &g.nodes;
    let multi_in = g.inputs.len() > 1;
    let multi_out = g.outputs.len() > 1;
    let in_total: usize = g.inputs.iter().map(|&i| nodes[i].len).sum();
    let out_total: usize = g.outputs.iter().map(|&o| nodes[o].len).sum();
    let in_ty = if multi_in {
        quote!([f32; #in_total])
    } else {
        shape_type(&nodes[g.inputs[0]].shape)
    };
    let out_ty = if multi_out {
        quote!([f32; #out_total])
    } else {
        shape_type(&nodes[g.outputs[0]].shape)
    };
    let offsets = |list: &[usize]| -> Vec<usize> {
        let mut acc = 0;
        list.iter()
            .map(|&n| {
                let o = acc;
                acc += nodes[n].len;
                o
            })
            .collect()
    };
    let in_offsets = offsets(&g.inputs);
    let out_offsets = offsets(&g.outputs);
    let field_ty = |n: usize| -> &TokenStream {
        match nodes[n].op {
            Op::Layer { field, .. } => &g.fields[field].ty,
            _ => unreachable!("only layer nodes have a type"),
        }
    };
    let is_layer = |n: usize| matches!(nodes[n].op, Op::Layer { .. });
    let is_input = |n: usize| matches!(nodes[n].op, Op::Input(_));

    // ---- Inference: a buffer per node, except the single input (`x`) and the single
    // output (`y`), then the largest layer scratch.
    let single_out = (!multi_out).then(|| g.outputs[0]);
    let infer_buf = |n: usize| -> TokenStream {
        if Some(n) == single_out {
            quote!(y)
        } else {
            out_buf(g, n)
        }
    };
    let mut infer_splits = TokenStream::new();
    let mut infer_len = 0usize;
    for (n, node) in nodes.iter().enumerate() {
        if Some(n) == single_out || (is_input(n) && !multi_in) {
            continue;
        }
        let id = format_ident!("__o{}", n);
        let len = node.len;
        infer_len += len;
        infer_splits.extend(quote! { let (#id, __s) = __s.split_at_mut(batch * #len); });
    }
    // Several inputs: each one's values gathered from the rows into its own buffer.
    let gather_inputs: TokenStream = if multi_in {
        g.inputs
            .iter()
            .zip(&in_offsets)
            .map(|(&i, off)| {
                let (id, len) = (format_ident!("__o{}", i), nodes[i].len);
                quote! { #kr::model::gather_rows(x, #in_total, #off, #len, #id, batch); }
            })
            .collect()
    } else {
        TokenStream::new()
    };
    let mut fwd = gather_inputs.clone();
    for (n, node) in nodes.iter().enumerate() {
        let y = infer_buf(n);
        let len = node.len;
        let ins: Vec<TokenStream> = node
            .inputs
            .iter()
            .map(|&p| {
                let b = infer_buf(p);
                let l = nodes[p].len;
                quote!(&#b[..batch * #l])
            })
            .collect();
        match &node.op {
            Op::Input(_) => {}
            Op::Layer { field, .. } => {
                let f = &g.fields[*field].name;
                let x = &ins[0];
                fwd.extend(
                    quote! { #kr::Layer::forward(&self.#f, #x, &mut #y[..batch * #len], &mut *__ls, batch); },
                );
            }
            Op::Merge(m) => fwd.extend(merge_forward(m, &ins, quote!(&mut #y[..batch * #len]))),
        }
    }
    if multi_out {
        for (k, &o) in g.outputs.iter().enumerate() {
            let (id, off, len) = (format_ident!("__o{}", o), out_offsets[k], nodes[o].len);
            fwd.extend(
                quote! { #kr::model::scatter_rows(&#id[..batch * #len], #out_total, #off, #len, y, batch); },
            );
        }
    }
    let layer_scratch_max = {
        let tys = g.fields.iter().map(|f| &f.ty);
        quote! {{
            let mut __max = 0usize;
            #(
                if <#tys as #kr::Layer>::SCRATCH > __max {
                    __max = <#tys as #kr::Layer>::SCRATCH;
                }
            )*
            __max
        }}
    };

    // ---- Training workspace: node outputs and caches, the outputs side by side (several
    // outputs), then one gradient buffer per computed node and a temporary one.
    let mut terms: Vec<(Ident, TokenStream)> = Vec::new();
    for (n, node) in nodes.iter().enumerate() {
        let len = node.len;
        if !is_input(n) || multi_in {
            terms.push((format_ident!("__o{}", n), quote!(#len)));
        }
        if is_layer(n) {
            let ty = field_ty(n);
            terms.push((cache_buf(n), quote!(<#ty as #kr::Layer>::CACHE)));
        }
    }
    if multi_out {
        terms.push((format_ident!("__out"), quote!(#out_total)));
    }
    let fwd_terms = terms.len();
    let mut max_grad = 0;
    for (n, node) in nodes.iter().enumerate() {
        let len = node.len;
        max_grad = max_grad.max(len);
        terms.push((grad_buf(n), quote!(#len)));
    }
    terms.push((format_ident!("__t"), quote!(#max_grad)));
    let split_mut = |terms: &[(Ident, TokenStream)]| -> TokenStream {
        terms
            .iter()
            .map(|(id, len)| quote! { let (#id, __ws) = __ws.split_at_mut(batch * (#len)); })
            .collect()
    };
    let split_ro = |terms: &[(Ident, TokenStream)]| -> TokenStream {
        terms
            .iter()
            .map(|(id, len)| quote! { let (#id, __ws) = __ws.split_at(batch * (#len)); })
            .collect()
    };
    let fwd_splits = split_mut(&terms[..fwd_terms]);
    let all_splits = split_mut(&terms);
    let ro_splits = split_ro(&terms[..fwd_terms]);
    let workspace = {
        let lens = terms.iter().map(|(_, l)| l);
        quote!(0 #(+ (#lens))*)
    };
    let output_offset = {
        let target = if multi_out {
            format_ident!("__out")
        } else {
            format_ident!("__o{}", g.outputs[0])
        };
        let before = terms.iter().take_while(|(id, _)| *id != target).map(|(_, l)| l);
        quote!(0 #(+ (#before))*)
    };

    let mut fwd_train = gather_inputs;
    for (n, node) in nodes.iter().enumerate() {
        let ins: Vec<TokenStream> = node
            .inputs
            .iter()
            .map(|&p| {
                let b = out_buf(g, p);
                quote!(&*#b)
            })
            .collect();
        let y = format_ident!("__o{}", n);
        match &node.op {
            Op::Input(_) => {}
            Op::Layer { field, .. } => {
                let f = &g.fields[*field].name;
                let c = cache_buf(n);
                let x = &ins[0];
                fwd_train.extend(quote! { #kr::Layer::forward_train(&self.#f, #x, #y, #c, batch, rng); });
            }
            Op::Merge(m) => fwd_train.extend(merge_forward(m, &ins, quote!(#y))),
        }
    }
    if multi_out {
        for (k, &o) in g.outputs.iter().enumerate() {
            let (id, off, len) = (format_ident!("__o{}", o), out_offsets[k], nodes[o].len);
            fwd_train
                .extend(quote! { #kr::model::scatter_rows(&*#id, #out_total, #off, #len, __out, batch); });
        }
    }

    // ---- Backward, nodes in reverse order.
    let mut bwd = TokenStream::new();
    let mut written = vec![false; nodes.len()];
    for (k, &o) in g.outputs.iter().enumerate() {
        let (id, off, len) = (grad_buf(o), out_offsets[k], nodes[o].len);
        bwd.extend(quote! { #kr::model::gather_rows(dy, #out_total, #off, #len, #id, batch); });
        written[o] = true;
    }
    for (n, node) in nodes.iter().enumerate().rev() {
        let gy = grad_buf(n);
        // Where the gradient for input `p` goes: its buffer if it is the first to arrive,
        // else the temporary buffer, then added.
        let dest = |p: usize, written: &mut Vec<bool>| -> (TokenStream, TokenStream) {
            let gp = grad_buf(p);
            let len = nodes[p].len;
            if written[p] {
                (
                    quote!(&mut __t[..batch * #len]),
                    quote! { #kr::model::add_assign(#gp, &__t[..batch * #len]); },
                )
            } else {
                written[p] = true;
                (quote!(&mut *#gp), TokenStream::new())
            }
        };
        match &node.op {
            Op::Input(_) => {}
            Op::Layer { field, .. } => {
                let f = &g.fields[*field].name;
                let p = node.inputs[0];
                let x = out_buf(g, p);
                let (o, c) = (format_ident!("__o{}", n), cache_buf(n));
                let (d, after) = dest(p, &mut written);
                let with_dx = quote! {
                    #kr::Layer::backward(&self.#f, &*#x, &*#o, &mut *#c, &mut *#gy, ::core::option::Option::Some(#d), &mut grads.#f, batch);
                    #after
                };
                if is_input(p) {
                    // The input's gradient only when the caller asks for it.
                    bwd.extend(quote! {
                        if __want_dx {
                            #with_dx
                        } else {
                            #kr::Layer::backward(&self.#f, &*#x, &*#o, &mut *#c, &mut *#gy, ::core::option::Option::None, &mut grads.#f, batch);
                        }
                    });
                } else {
                    bwd.extend(with_dx);
                }
            }
            Op::Merge(m) => {
                let ins: Vec<TokenStream> = node
                    .inputs
                    .iter()
                    .map(|&p| {
                        let b = out_buf(g, p);
                        quote!(&*#b)
                    })
                    .collect();
                let o = format_ident!("__o{}", n);
                for (i, &p) in node.inputs.iter().enumerate() {
                    let (d, after) = dest(p, &mut written);
                    let step = merge_backward(m, &ins, quote!(&*#o), quote!(&*#gy), i, d);
                    if is_input(p) {
                        bwd.extend(quote! { if __want_dx { #step #after } });
                    } else {
                        bwd.extend(quote! { #step #after });
                    }
                }
            }
        }
    }
    // dL/dx: each input's gradient, side by side in the caller's rows.
    for (k, &i) in g.inputs.iter().enumerate() {
        let (gi, off, len) = (grad_buf(i), in_offsets[k], nodes[i].len);
        bwd.extend(quote! {
            if let ::core::option::Option::Some(dx) = dx.as_deref_mut() {
                #kr::model::scatter_rows(&*#gi, #in_total, #off, #len, dx, batch);
            }
        });
    }

    let update_states = nodes.iter().enumerate().filter_map(|(n, node)| match node.op {
        Op::Layer { field, .. } => {
            let f = &g.fields[field].name;
            let c = cache_buf(n);
            Some(quote! { #kr::Layer::update_state(&mut self.#f, #c, batch); })
        }
        _ => None,
    });

    let non_trainable = crate::expand::non_trainable(&tys);

    // ---- Summary rows: inputs, layers (once, at their first call), merges.
    let node_ref = |p: usize| -> String {
        match nodes[p].op {
            Op::Layer { field, call } => format!("{}[{call}][0]", g.fields[field].name),
            _ => format!("{}[0][0]", nodes[p].name),
        }
    };
    let infos = nodes.iter().filter_map(|node| {
        let dims = &node.shape;
        let (row_name, kind, params, describe, connected): (
            String,
            String,
            TokenStream,
            String,
            Vec<String>,
        ) = match &node.op {
            Op::Input(_) => (
                node.name.to_string(),
                "InputLayer".into(),
                quote!(0),
                format!(
                    "Input<{}>",
                    dims.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Vec::new(),
            ),
            Op::Layer { field, call } => {
                if *call > 0 {
                    return None;
                }
                let f = &g.fields[*field];
                let ty = &f.ty;
                let connected = f.calls.iter().map(|&c| node_ref(nodes[c].inputs[0])).collect();
                (
                    f.name.to_string(),
                    if f.kind == "Model" {
                        "Functional".to_string()
                    } else {
                        f.kind.to_string()
                    },
                    quote!(<#ty as #kr::Params>::COUNT),
                    f.describe.clone(),
                    connected,
                )
            }
            Op::Merge(m) => (
                node.name.to_string(),
                m.kind().to_string(),
                quote!(0),
                m.describe(),
                node.inputs.iter().map(|&p| node_ref(p)).collect(),
            ),
        };
        Some(quote! {
            #kr::LayerInfo {
                name: #row_name,
                kind: #kind,
                output_shape: &[#(#dims),*],
                params: #params,
                describe: #describe,
                connected_to: &[#(#connected),*],
            }
        })
    });
    let io_infos = |list: &[usize], offs: &[usize]| -> Vec<TokenStream> {
        list.iter()
            .zip(offs)
            .map(|(&n, &off)| {
                let node = &nodes[n];
                let name = node.name.to_string();
                let dims = &node.shape;
                let len = node.len;
                quote! { #kr::model::TensorInfo { name: #name, shape: &[#(#dims),*], offset: #off, len: #len } }
            })
            .collect()
    };
    let input_infos = io_infos(&g.inputs, &in_offsets);
    let output_infos = io_infos(&g.outputs, &out_offsets);

    let doc_arch = {
        let mut s = String::from(" Graph:");
        for node in nodes {
            let rhs = match &node.op {
                Op::Input(_) => format!("Input {:?}", node.shape),
                Op::Layer { field, .. } => {
                    let f = &g.fields[field.to_owned()];
                    format!("`{}`: {}", f.name, f.describe)
                }
                Op::Merge(m) => m.describe(),
            };
            let ins: Vec<String> = node
                .inputs
                .iter()
                .map(|&p| format!("`{}`", nodes[p].name))
                .collect();
            if ins.is_empty() {
                s += &format!(" `{}` = {rhs};", node.name);
            } else {
                s += &format!(
                    " `{}` = {rhs} of {} → {:?};",
                    node.name,
                    ins.join(", "),
                    node.shape
                );
            }
        }
        let outs: Vec<String> = g
            .outputs
            .iter()
            .map(|&o| format!("`{}`", nodes[o].name))
            .collect();
        s + &format!(" outputs: {}.", outs.join(", "))
    };

    // ---- The typed single-sample forward.
    let in_types: Vec<TokenStream> = g.inputs.iter().map(|&i| shape_type(&nodes[i].shape)).collect();
    let out_types: Vec<TokenStream> = g.outputs.iter().map(|&o| shape_type(&nodes[o].shape)).collect();
    let span = def.name.span();
    let forward = Ident::new("forward", span);
    let (x_param, x_flat) = if multi_in {
        let idx = (0..g.inputs.len()).map(syn::Index::from);
        let offs = &in_offsets;
        let lens = g.inputs.iter().map(|&i| nodes[i].len);
        (
            quote!(x: (#(&#in_types,)*)),
            quote! {
                let mut __x = [0.0f32; #in_total];
                #( __x[#offs..#offs + #lens].copy_from_slice(#kr::Shape::as_flat(x.#idx)); )*
                let __x = &__x[..];
            },
        )
    } else {
        let t = &in_types[0];
        (quote!(x: &#t), quote! { let __x = #kr::Shape::as_flat(x); })
    };
    let (ret_ty, ret) = if multi_out {
        let names: Vec<Ident> = (0..g.outputs.len()).map(|k| format_ident!("__y{}", k)).collect();
        let offs = &out_offsets;
        let lens = g.outputs.iter().map(|&o| nodes[o].len);
        (
            quote!((#(#out_types,)*)),
            quote! {
                #( let mut #names: #out_types = #kr::Shape::ZERO; )*
                #( #kr::Shape::as_flat_mut(&mut #names).copy_from_slice(&__y[#offs..#offs + #lens]); )*
                (#(#names,)*)
            },
        )
    } else {
        let t = &out_types[0];
        (
            quote!(#t),
            quote! {
                let mut __out: #t = #kr::Shape::ZERO;
                #kr::Shape::as_flat_mut(&mut __out).copy_from_slice(&__y);
                __out
            },
        )
    };

    let common = crate::expand::inherent_items(name);
    let visits = fields.iter().map(|f| {
        let fname = f.to_string();
        quote! { #kr::Layer::visit_params(&self.#f, &mut |p, s, v| f(#fname, p, s, v)); }
    });
    // rustc checks each layer's shapes against the ones inferred here: for a nested model,
    // whose shapes the macro cannot see, this is the check.
    let field_checks = g.fields.iter().map(|f| {
        let ty = &f.ty;
        let (i, o) = (shape_type(&f.input), shape_type(&f.output));
        let span = f
            .call_tokens
            .clone()
            .into_iter()
            .next()
            .map_or_else(Span::call_site, |t| t.span());
        crate::expand::respan(quote! { __layer_shapes::<#ty, #i, #o>(); }, span)
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
            fn __layer_shapes<L: #kr::model::LayerShapes<I, O>, I, O>() {}
            #[allow(dead_code)]
            fn __check_layers() {
                #(#field_checks)*
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
                const INPUTS: &'static [#kr::model::TensorInfo] = &[#(#input_infos),*];
                const OUTPUTS: &'static [#kr::model::TensorInfo] = &[#(#output_infos),*];
                const WORKSPACE: usize = #workspace;
                const SCRATCH: usize = #infer_len + #layer_scratch_max;
                const WHOLE_BATCH: bool = false #(|| <#tys as #kr::Layer>::BATCH_STATS)*;
                const NON_TRAINABLE: &'static [(usize, usize)] = #non_trainable;

                fn init_with(&mut self, rng: &mut #kr::Rng) {
                    #(#kr::Layer::init(&mut self.#fields, rng);)*
                }

                #[allow(clippy::needless_borrow, unused_variables)]
                fn forward_batch(&self, x: &[f32], y: &mut [f32], batch: usize, scratch: &mut [f32]) {
                    let __s = scratch;
                    #infer_splits
                    let __ls = __s;
                    #fwd
                }

                #[allow(unused_variables)]
                fn forward_train(&self, x: &[f32], batch: usize, ws: &mut [f32], rng: &mut #kr::Rng) {
                    let __ws = ws;
                    #fwd_splits
                    #fwd_train
                }

                fn train_output(ws: &[f32], batch: usize) -> &[f32] {
                    let start = batch * (#output_offset);
                    &ws[start..start + batch * #out_total]
                }

                #[allow(unused_variables)]
                #[allow(unused_variables, unused_mut)]
                fn backward_input(
                    &self,
                    x: &[f32],
                    batch: usize,
                    ws: &mut [f32],
                    dy: &mut [f32],
                    mut dx: ::core::option::Option<&mut [f32]>,
                    grads: &mut Self,
                ) {
                    let __want_dx = dx.is_some();
                    let __ws = ws;
                    #all_splits
                    #bwd
                }

                #[allow(unused_variables)]
                fn update_state(&mut self, ws: &[f32], batch: usize) {
                    let __ws = ws;
                    #ro_splits
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
            /// The number of parameters.
            pub const PARAM_COUNT: usize = <Self as #kr::Params>::COUNT;

            /// The model with every parameter zero; `static` models start from this.
            pub const ZERO: Self = <Self as #kr::Params>::ZERO;

            /// (Re)initialises every layer with Keras's default initialisers, seeded.
            pub fn init(&mut self, seed: u64) {
                #kr::Model::init_with(self, &mut #kr::Rng::new(seed));
            }

            /// Runs one sample through the network (inference mode): the inputs in
            /// declaration order, the outputs in `outputs(...)` order. With `std`, the
            /// intermediate buffers are the calling thread's, kept from call to call;
            /// without, they are on the stack (on the heap above 1 MiB with `alloc`).
            pub fn #forward(&self, #x_param) -> #ret_ty {
                #x_flat
                let mut __y = [0.0f32; #out_total];
                self.__forward_one(__x, &mut __y);
                #ret
            }

        }

        #common
    }
}

fn merge_forward(m: &Merge, ins: &[TokenStream], y: TokenStream) -> TokenStream {
    let kr = quote!(::kerust::__private);
    match m {
        Merge::Elementwise(module) => {
            let module = Ident::new(module, Span::call_site());
            quote! { #kr::layers::merge::#module::forward(&[#(#ins),*], #y); }
        }
        Merge::Concatenate { chunks, .. } => {
            quote! { #kr::layers::merge::concatenate::forward(&[#(#ins),*], &[#(#chunks),*], #y); }
        }
        Merge::Dot { dims, normalize, .. } => {
            let dims = dot_dims(dims, *normalize);
            let (x0, x1) = (&ins[0], &ins[1]);
            quote! { #kr::layers::merge::dot::forward(#x0, #x1, &#dims, batch, #y); }
        }
    }
}

fn merge_backward(
    m: &Merge,
    ins: &[TokenStream],
    y: TokenStream,
    dy: TokenStream,
    i: usize,
    dx: TokenStream,
) -> TokenStream {
    let kr = quote!(::kerust::__private);
    match m {
        Merge::Elementwise(module) => {
            let module = Ident::new(module, Span::call_site());
            quote! { #kr::layers::merge::#module::backward(&[#(#ins),*], #y, #dy, #i, #dx); }
        }
        Merge::Concatenate { chunks, .. } => {
            quote! { #kr::layers::merge::concatenate::backward(#dy, &[#(#chunks),*], #i, #dx); }
        }
        Merge::Dot { dims, normalize, .. } => {
            let dims = dot_dims(dims, *normalize);
            let (x0, x1) = (&ins[0], &ins[1]);
            quote! { #kr::layers::merge::dot::backward(#x0, #x1, #y, &#dims, batch, #dy, #i, #dx); }
        }
    }
}

fn dot_dims(d: &[usize; 5], normalize: bool) -> TokenStream {
    let kr = quote!(::kerust::__private);
    let [a0, b0, a1, b1, c] = *d;
    quote! {
        #kr::layers::merge::dot::DotDims { a0: #a0, b0: #b0, a1: #a1, b1: #b1, c: #c, normalize: #normalize }
    }
}
