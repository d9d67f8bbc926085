//! Pooling, channels-last: `MaxPooling1D/2D` and `AveragePooling1D/2D(pool_size, strides,
//! padding, data_format)`, `GlobalAveragePooling1D/2D` and `GlobalMaxPooling1D/2D
//! (data_format, keepdims)`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Ident;

use super::{p, shape_type, ArgKind, Args, Param, Resolved, Site, Spec};

pub const MAX_POOLING_1D: Spec = Spec {
    name: "MaxPooling1D",
    params: &POOL_PARAMS,
    example: "MaxPooling1D(2)",
    resolve: |a, i, s, e| resolve_pool(1, true, a, i, s, e),
};
pub const MAX_POOLING_2D: Spec = Spec {
    name: "MaxPooling2D",
    params: &POOL_PARAMS,
    example: "MaxPooling2D((2, 2))",
    resolve: |a, i, s, e| resolve_pool(2, true, a, i, s, e),
};
pub const AVERAGE_POOLING_1D: Spec = Spec {
    name: "AveragePooling1D",
    params: &POOL_PARAMS,
    example: "AveragePooling1D(2)",
    resolve: |a, i, s, e| resolve_pool(1, false, a, i, s, e),
};
pub const AVERAGE_POOLING_2D: Spec = Spec {
    name: "AveragePooling2D",
    params: &POOL_PARAMS,
    example: "AveragePooling2D((2, 2))",
    resolve: |a, i, s, e| resolve_pool(2, false, a, i, s, e),
};
pub const GLOBAL_AVERAGE_POOLING_1D: Spec = Spec {
    name: "GlobalAveragePooling1D",
    params: &GLOBAL_PARAMS,
    example: "GlobalAveragePooling1D()",
    resolve: |a, i, s, e| resolve_global(1, a, i, s, e),
};
pub const GLOBAL_AVERAGE_POOLING_2D: Spec = Spec {
    name: "GlobalAveragePooling2D",
    params: &GLOBAL_PARAMS,
    example: "GlobalAveragePooling2D()",
    resolve: |a, i, s, e| resolve_global(2, a, i, s, e),
};
pub const GLOBAL_MAX_POOLING_1D: Spec = Spec {
    name: "GlobalMaxPooling1D",
    params: &GLOBAL_PARAMS,
    example: "GlobalMaxPooling1D()",
    resolve: |a, i, s, e| resolve_global(1, a, i, s, e),
};
pub const GLOBAL_MAX_POOLING_2D: Spec = Spec {
    name: "GlobalMaxPooling2D",
    params: &GLOBAL_PARAMS,
    example: "GlobalMaxPooling2D()",
    resolve: |a, i, s, e| resolve_global(2, a, i, s, e),
};

/// Keras's pooling arguments, in Keras's positional order.
const POOL_PARAMS: [Param; 4] = [
    p("pool_size", ArgKind::Ints, false),
    p("strides", ArgKind::Ints, false),
    p("padding", ArgKind::Choice(&["valid", "same"]), false),
    p("data_format", ArgKind::Choice(&["channels_last"]), false),
];
const POOL_SIZE: usize = 0;
const STRIDES: usize = 1;
const PADDING: usize = 2;

/// Keras's global pooling arguments, in Keras's positional order.
const GLOBAL_PARAMS: [Param; 2] = [
    p("data_format", ArgKind::Choice(&["channels_last"]), false),
    p("keepdims", ArgKind::Bool, false),
];
const KEEPDIMS: usize = 1;

/// Max pooling numbers each window's cells in `f32` (see `kerust-core`'s pooling kernels),
/// exact up to 2^24.
const MAX_WINDOW_CELLS: usize = 1 << 24;

/// The spatial axes' names, for messages: what a dimension is, and what the output would
/// lack when it is empty.
pub(super) fn axes(rank: usize) -> &'static [(&'static str, &'static str)] {
    if rank == 2 {
        &[("height", "rows"), ("width", "columns")]
    } else {
        &[("length", "steps")]
    }
}

fn resolve_pool(
    rank: usize,
    max: bool,
    args: &Args,
    input: Option<&[usize]>,
    site: &Site,
    errors: &mut Vec<syn::Error>,
) -> Resolved {
    let layer = site.layer;
    let spatial = input.and_then(|shape| check_input(rank, shape, site, errors));
    // Keras: `pool_size` defaults to 2 on every axis, `strides` to `pool_size`.
    let pool = sizes(args, POOL_SIZE, "pool_size", rank, layer, errors)
        .or_else(|| args.nested(POOL_SIZE).is_none().then(|| vec![2; rank]));
    let strides = match args.nested(STRIDES) {
        Some(_) => sizes(args, STRIDES, "strides", rank, layer, errors),
        None => pool.clone(),
    };
    let padding = args.choice(PADDING).unwrap_or("valid");

    // Per axis: (output length, padding before), as Keras computes them.
    let mut geometry: Option<Vec<(usize, usize)>> = None;
    if let (Some((space, _)), Some(pool), Some(strides)) = (spatial, &pool, &strides) {
        let mut too_large = Vec::new();
        let mut dims = Vec::new();
        for (axis, &(name, _)) in axes(rank).iter().enumerate() {
            let (n, k, s) = (space[axis], pool[axis], strides[axis]);
            if padding == "valid" {
                if n < k {
                    too_large.push((
                        axis,
                        format!("the pool {name} {k} is larger than the input {name} {n}"),
                    ));
                }
                dims.push(((n.saturating_sub(k)) / s + 1, 0));
            } else {
                // `same`: ceil(n / s) windows; the padding they need is split in two, the
                // odd cell going after the input (bottom / right), as TF and Keras.
                let out = n.div_ceil(s);
                let total = ((out - 1).saturating_mul(s)).saturating_add(k).saturating_sub(n);
                dims.push((out, total / 2));
            }
        }
        if too_large.is_empty() {
            geometry = Some(dims);
        } else {
            let what: Vec<String> = too_large.iter().map(|(_, m)| m.clone()).collect();
            let empty: Vec<&str> = too_large.iter().map(|&(a, _)| axes(rank)[a].1).collect();
            push_at_arg(
                args,
                POOL_SIZE,
                site,
                errors,
                format!(
                    "layer `{layer}`: {}, so the output would have no {}\nhelp: with `padding = valid` every window must fit inside the input: use `padding = same` or a smaller `pool_size`",
                    what.join(", and "),
                    empty.join(" and ")
                ),
            );
            note_prev(site, input, errors);
        }
        // The backward pass numbers a window's cells in f32.
        let cells = space
            .iter()
            .zip(pool)
            .fold(1usize, |acc, (&n, &k)| acc.saturating_mul(n.min(k)));
        if max && cells > MAX_WINDOW_CELLS {
            push_at_arg(
                args,
                POOL_SIZE,
                site,
                errors,
                format!(
                    "layer `{layer}`: a pooling window covers {cells} input cells, more than `{}` supports ({MAX_WINDOW_CELLS})\nhelp: use a smaller `pool_size`, or `GlobalMaxPooling{rank}D` to pool over the whole input",
                    site.kind
                ),
            );
            geometry = None;
        }
    }

    let rt = quote!(::kerust::__private::layers);
    let zeros = vec![0; rank];
    let (space, c) = spatial.unwrap_or((&zeros, 0));
    let k = pool.clone().unwrap_or_else(|| zeros.clone());
    let s = strides.clone().unwrap_or_else(|| zeros.clone());
    let g = geometry.clone().unwrap_or_else(|| vec![(0, 0); rank]);
    let kind = syn::Ident::new(site.kind, proc_macro2::Span::call_site());
    let ty = if rank == 2 {
        let (h, w, kh, kw, sh, sw) = (space[0], space[1], k[0], k[1], s[0], s[1]);
        let ((oh, top), (ow, left)) = (g[0], g[1]);
        quote!(#rt::#kind<#h, #w, #c, #kh, #kw, #sh, #sw, #top, #left, #oh, #ow>)
    } else {
        let (l, k, s, (ol, pad)) = (space[0], k[0], s[0], g[0]);
        quote!(#rt::#kind<#l, #c, #k, #s, #pad, #ol>)
    };
    let describe = {
        let mut d = format!("{}({}", site.kind, tuple(&k));
        if s != k {
            d += &format!(", strides = {}", tuple(&s));
        }
        if padding != "valid" {
            d += &format!(", padding = {padding}");
        }
        d + ")"
    };
    Resolved {
        ty,
        output: match (geometry, spatial) {
            (Some(g), Some((_, c))) => Some(g.iter().map(|&(o, _)| o).chain([c]).collect()),
            _ => None,
        },
        describe,
    }
}

fn resolve_global(
    rank: usize,
    args: &Args,
    input: Option<&[usize]>,
    site: &Site,
    errors: &mut Vec<syn::Error>,
) -> Resolved {
    let spatial = input.and_then(|shape| check_input(rank, shape, site, errors));
    let keepdims = args.bool(KEEPDIMS).unwrap_or(false);
    let output = spatial.map(|(_, c)| {
        if keepdims {
            let mut out = vec![1; rank];
            out.push(c);
            out
        } else {
            vec![c]
        }
    });
    let rt = quote!(::kerust::__private::layers);
    let kind = syn::Ident::new(site.kind, proc_macro2::Span::call_site());
    let zeros = vec![0; rank];
    let (space, c) = spatial.unwrap_or((&zeros, 0));
    let out_ty = output.as_deref().map(shape_type).unwrap_or_default();
    Resolved {
        ty: quote!(#rt::#kind<#(#space,)* #c, #out_ty>),
        output,
        describe: if keepdims {
            format!("{}(keepdims = true)", site.kind)
        } else {
            site.kind.to_string()
        },
    }
}

/// `2` or `(2, 3)` as Keras prints a size.
pub(super) fn tuple(v: &[usize]) -> String {
    match v {
        [one] => one.to_string(),
        _ => format!(
            "({})",
            v.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// A size per spatial axis (`pool_size`, `strides`, `size`): an integer for every axis or a
/// tuple of `rank` integers, each at least 1. `None` when not given (the caller applies
/// Keras's default) or wrong (after an error).
pub(super) fn sizes(
    args: &Args,
    index: usize,
    name: &str,
    rank: usize,
    layer: &Ident,
    errors: &mut Vec<syn::Error>,
) -> Option<Vec<usize>> {
    let (nested, tokens) = args.nested(index)?;
    let flat: Option<Vec<usize>> = nested
        .iter()
        .map(|v| match v.as_slice() {
            [x] => Some(*x),
            _ => None,
        })
        .collect();
    let values = match flat {
        Some(v) if v.len() == 1 => vec![v[0]; rank],
        Some(v) if v.len() == rank => v,
        _ => {
            let expected = if rank == 1 {
                "an integer or a tuple of 1 integer, such as `2`".to_string()
            } else {
                format!("an integer or a tuple of {rank} integers, such as `2` or `(2, 2)`")
            };
            errors.push(syn::Error::new_spanned(
                tokens,
                format!(
                    "layer `{layer}`: `{name}` must be {expected}, found `{tokens}`\nhelp: one value per spatial axis ({}); a single integer applies to every axis",
                    axes(rank).iter().map(|a| a.0).collect::<Vec<_>>().join(", ")
                ),
            ));
            return None;
        }
    };
    if values.contains(&0) {
        let what = match name {
            "pool_size" => "the window size along each axis; it defaults to 2",
            "strides" => "the step between windows along each axis; it defaults to `pool_size`",
            _ => "the factor by which each axis grows; it defaults to 2",
        };
        errors.push(syn::Error::new_spanned(
            tokens,
            format!(
                "layer `{layer}`: `{name}` must be at least 1, found `{tokens}`\nhelp: `{name}` is {what}"
            ),
        ));
        return None;
    }
    Some(values)
}

/// An error at argument `index` when it was written, else at the whole layer call.
pub(super) fn push_at_arg(args: &Args, index: usize, site: &Site, errors: &mut Vec<syn::Error>, msg: String) {
    let tokens: &TokenStream = args.get(index).map_or(site.call, |(_, t)| t);
    errors.push(syn::Error::new_spanned(tokens, msg));
}

/// A note at the previous layer, which produced the shape a layer rejects.
pub(super) fn note_prev(site: &Site, input: Option<&[usize]>, errors: &mut Vec<syn::Error>) {
    if let (Some(prev), Some(shape)) = (site.prev, input) {
        errors.push(syn::Error::new(
            prev.span(),
            format!(
                "{} `{prev}` produces the shape {shape:?} that `{}` receives",
                site.word(),
                site.layer
            ),
        ));
    }
}

/// The input's spatial dimensions and channels, or an error when its rank is not
/// `rank + 1`.
pub(super) fn check_input<'a>(
    rank: usize,
    shape: &'a [usize],
    site: &Site,
    errors: &mut Vec<syn::Error>,
) -> Option<(&'a [usize], usize)> {
    if let Some((&c, space)) = shape.split_last().filter(|_| shape.len() == rank + 1) {
        return Some((space, c));
    }
    let (layer, kind) = (site.layer, site.kind);
    let from = site.source();
    // The same layer for the other rank, when there is one: `MaxPooling1D` for
    // `MaxPooling2D`.
    let twin = [("1D", "2D"), ("2D", "1D")]
        .iter()
        .find_map(|(from, to)| kind.strip_suffix(from).map(|base| format!("{base}{to}")))
        .filter(|t| super::Spec::find(t).is_some());
    let (needs, reshape) = if rank == 2 {
        let reshape = match *shape {
            [h, w] => Some(format!("({h}, {w}, 1)")),
            [n] => square_root(n).map(|s| format!("({s}, {s}, 1)")),
            _ => None,
        };
        ("rank-3 input (height, width, channels)", reshape)
    } else {
        let reshape = match *shape {
            [n] => Some(format!("({n}, 1)")),
            _ => None,
        };
        ("rank-2 input (steps, channels)", reshape)
    };
    let mut help = match reshape {
        Some(target) => site.insert_before("reshape", &format!("Reshape({target})")),
        None if rank == 2 => {
            format!("give `{layer}` one (height, width, channels) image per sample, with `Reshape`")
        }
        None => format!("give `{layer}` one (steps, channels) sequence per sample, with `Reshape`"),
    };
    if let Some(twin) = twin.filter(|_| shape.len() == 3 - rank + 1) {
        let what = if rank == 2 {
            "(steps, channels) sequences"
        } else {
            "images"
        };
        help = format!("for {what} use `{twin}`; or {help}");
    }
    errors.push(syn::Error::new_spanned(
        site.call,
        format!(
            "layer `{layer}` (`{kind}`) needs a {needs}, but receives shape {shape:?} from {from}\nhelp: {help}"
        ),
    ));
    if let Some(prev) = site.prev {
        errors.push(syn::Error::new(
            prev.span(),
            format!(
                "{} `{prev}` produces the rank-{} shape {shape:?} that `{layer}` receives",
                site.word(),
                shape.len()
            ),
        ));
    }
    None
}

/// `s` with `s * s == n`, if there is one.
fn square_root(n: usize) -> Option<usize> {
    let s = (n as f64).sqrt().round() as usize;
    (s.checked_mul(s) == Some(n)).then_some(s)
}

#[cfg(test)]
mod tests {
    use proc_macro2::{TokenStream, TokenTree};
    use quote::quote;

    use crate::{ast, check, expand, fallback};

    /// What `model!` does: the tokens, and whether the declaration checked.
    fn run(input: TokenStream) -> (String, bool) {
        let def = match syn::parse2::<ast::ModelDef>(input.clone()) {
            Ok(def) => def,
            Err(err) => return (fallback::unparsed(input, &err).to_string(), false),
        };
        match check::check(&def) {
            Ok(model) => (expand::model(&model).to_string(), true),
            Err(failed) => (fallback::model(&def, &failed).to_string(), false),
        }
    }

    fn valid() -> TokenStream {
        quote! {
            struct Net: Input<9, 7, 2> {
                pad: ZeroPadding2D(((1, 0), (2, 1))),
                max: MaxPooling2D(pool_size = 2, strides = (2, 1), padding = same),
                up: UpSampling2D((2, 3), channels_last, bilinear),
                crop: Cropping2D((1, 2)),
                avg: AveragePooling2D(3, 2, "same", data_format = channels_last),
                gmax: GlobalMaxPooling2D(keepdims = true),
                seq: Reshape((1, 2)),
                max1: MaxPooling1D(1),
                avg1: AveragePooling1D(1, 1, valid),
                gavg: GlobalAveragePooling1D(channels_last, false),
                out: Dense(3),
            }
        }
    }

    #[test]
    fn valid_model_expands_with_keras_sizes() {
        let (out, ok) = run(valid());
        assert!(ok, "{out}");
        for part in [
            "ZeroPadding2D < 9usize , 7usize , 2usize , 1usize , 0usize , 2usize , 1usize , 10usize , 10usize >",
            // same: ceil(10 / 2) = 5 rows, ceil(10 / 1) = 10 columns, padding 0 before.
            "MaxPooling2D < 10usize , 10usize , 2usize , 2usize , 2usize , 2usize , 1usize , 0usize , 0usize , 5usize , 10usize >",
            "UpSampling2D < 5usize , 10usize , 2usize , 2usize , 3usize , 10usize , 30usize , :: kerust :: __private :: layers :: Bilinear >",
            "Cropping2D < 10usize , 30usize , 2usize , 1usize , 1usize , 2usize , 2usize , 8usize , 26usize >",
            // same: ceil(8 / 2) = 4 rows, (3 * 2 + 3 - 8) / 2 = 0 padded before.
            "AveragePooling2D < 8usize , 26usize , 2usize , 3usize , 3usize , 2usize , 2usize , 0usize , 0usize , 4usize , 13usize >",
            "GlobalMaxPooling2D < 4usize , 13usize , 2usize , [[[f32 ; 2usize] ; 1usize] ; 1usize] >",
            "GlobalAveragePooling1D < 1usize , 2usize , [f32 ; 2usize] >",
        ] {
            assert!(out.contains(part), "missing {part}\n{out}");
        }
    }

    #[test]
    fn garbage_never_panics() {
        let huge = quote!(18446744073709551615);
        let cases = [
            quote!(struct F: Input<4, 4, 1> { p: MaxPooling2D(#huge, padding = same) }),
            quote!(struct F: Input<4, 4, 1> { p: MaxPooling2D(#huge) }),
            quote!(struct F: Input<4, 4, 1> { p: AveragePooling2D(2, #huge, same) }),
            quote!(struct F: Input<4, 4, 1> { p: MaxPooling2D(0, 0) }),
            quote!(struct F: Input<4, 4, 1> { p: MaxPooling2D(()) }),
            quote!(struct F: Input<4, 4, 1> { p: MaxPooling2D(((1, 2), (3, 4))) }),
            quote!(struct F: Input<4, 4, 1> { p: MaxPooling2D(-1) }),
            quote!(struct F: Input<4, 4, 1> { p: MaxPooling2D(2, 2, sam) }),
            quote!(struct F: Input<4, 4, 1> { p: MaxPooling1D(2) }),
            quote!(struct F: Input<4> { p: GlobalMaxPooling2D }),
            quote!(struct F: Input<4, 4, 1> { p: GlobalMaxPooling2D(keepdims = 1) }),
            quote!(struct F: Input<4, 4, 1> { p: UpSampling2D(#huge) }),
            quote!(struct F: Input<4, 4, 1> { p: UpSampling2D((#huge, #huge)) }),
            quote!(struct F: Input<4, 4, 1> { p: UpSampling2D(4294967296) }),
            quote!(struct F: Input<4, 4, 1> { p: ZeroPadding2D(#huge) }),
            quote!(struct F: Input<4, 4, 1> { p: ZeroPadding2D(((#huge, #huge), 1)) }),
            quote!(struct F: Input<4, 4, 1> { p: ZeroPadding2D(((1, 2, 3), 1)) }),
            quote!(struct F: Input<4, 4, 1> { p: ZeroPadding2D(((), 1)) }),
            quote!(struct F: Input<4, 4, 1> { p: Cropping2D(#huge) }),
            quote!(struct F: Input<4, 4, 1> { p: Cropping2D(((#huge, #huge), (0, 0))) }),
            quote!(struct F: Input<4, 4, 1> { p: Cropping2D(((2, 2), (4, 0))) }),
            quote!(struct F: Input<4, 4, 1> { a: Dens(3), p: Cropping2D(1), q: MaxPooling2D(2) }),
        ];
        for case in cases {
            let (out, _) = run(case);
            assert!(!out.is_empty());
        }
    }

    #[test]
    fn errors_name_the_dimension() {
        let (out, ok) = run(quote!(struct F: Input<3, 8, 1> { p: MaxPooling2D((4, 9)) }));
        assert!(!ok);
        assert!(
            out.contains("the pool height 4 is larger than the input height 3, and the pool width 9 is larger than the input width 8, so the output would have no rows and columns"),
            "{out}"
        );
        let (out, _) = run(quote!(struct F: Input<3, 8, 1> { c: Cropping2D(((1, 1), (4, 4))) }));
        assert!(
            out.contains("removes 4 + 4 columns from an input of width 8"),
            "{out}"
        );
        // The shape still flows past a mistake in the arguments: `d` is checked.
        let (out, _) = run(quote!(struct F: Input<4, 4, 1> { p: MaxPooling2D(2, strides = 0), d: Dense(3) }));
        assert!(out.contains("`strides` must be at least 1"), "{out}");
    }

    /// Deletes, duplicates or replaces each token of [`valid`] in turn, at every depth.
    #[test]
    fn mutants_never_panic() {
        fn mutants(tokens: &TokenStream, out: &mut Vec<TokenStream>) {
            let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
            let junk: [TokenTree; 3] = [
                TokenTree::Literal(proc_macro2::Literal::i64_unsuffixed(0)),
                TokenTree::Literal(proc_macro2::Literal::u64_unsuffixed(u64::MAX)),
                TokenTree::Ident(proc_macro2::Ident::new("same", proc_macro2::Span::call_site())),
            ];
            for i in 0..trees.len() {
                let mut deleted = trees.clone();
                deleted.remove(i);
                out.push(deleted.into_iter().collect());
                for j in &junk {
                    let mut replaced = trees.clone();
                    replaced[i] = j.clone();
                    out.push(replaced.into_iter().collect());
                }
                if let TokenTree::Group(g) = &trees[i] {
                    let mut inner = Vec::new();
                    mutants(&g.stream(), &mut inner);
                    for m in inner {
                        let mut nested = trees.clone();
                        nested[i] = TokenTree::Group(proc_macro2::Group::new(g.delimiter(), m));
                        out.push(nested.into_iter().collect());
                    }
                }
            }
        }
        let mut all = Vec::new();
        mutants(&valid(), &mut all);
        assert!(all.len() > 500);
        for m in all {
            let _ = run(m);
        }
    }
}
