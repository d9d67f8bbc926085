//! `Conv2D(filters, kernel_size, strides, padding, data_format, dilation_rate, groups,
//! activation, use_bias)` and `Conv1D(...)` with the same arguments, channels-last.

use quote::quote;
use syn::Ident;

use super::{act_type, p, ArgKind, Args, Resolved, Site, Spec};

pub const CONV2D: Spec = Spec {
    name: "Conv2D",
    params: &params(&["valid", "same"]),
    example: "Conv2D(32, (3, 3), activation = relu)",
    resolve: resolve_2d,
};
pub const CONV1D: Spec = Spec {
    name: "Conv1D",
    params: &params(&["valid", "same", "causal"]),
    example: "Conv1D(32, 3, activation = relu)",
    resolve: resolve_1d,
};

/// Keras's arguments, in Keras's positional order.
const fn params(paddings: &'static [&'static str]) -> [super::Param; 9] {
    [
        p("filters", ArgKind::Units, true),
        p("kernel_size", ArgKind::Ints, true),
        p("strides", ArgKind::Ints, false),
        p("padding", ArgKind::Choice(paddings), false),
        p("data_format", ArgKind::Choice(&["channels_last"]), false),
        p("dilation_rate", ArgKind::Ints, false),
        p("groups", ArgKind::Units, false),
        p("activation", ArgKind::Activation, false),
        p("use_bias", ArgKind::Bool, false),
    ]
}

/// The most values the kernel or the patches of one sample may have (the bound `check`
/// puts on a sample's values: arrays are limited to `isize::MAX` bytes).
const MAX_VALUES: usize = isize::MAX as usize / 8;

const FILTERS: usize = 0;
const KERNEL_SIZE: usize = 1;
const STRIDES: usize = 2;
const PADDING: usize = 3;
const DILATION_RATE: usize = 5;
const GROUPS: usize = 6;
const ACTIVATION: usize = 7;
const USE_BIAS: usize = 8;

fn resolve_2d(args: &Args, input: Option<&[usize]>, site: &Site, errors: &mut Vec<syn::Error>) -> Resolved {
    resolve(2, args, input, site, errors)
}

fn resolve_1d(args: &Args, input: Option<&[usize]>, site: &Site, errors: &mut Vec<syn::Error>) -> Resolved {
    resolve(1, args, input, site, errors)
}

/// The spatial axes' names, for messages: what a dimension is, and what the output would
/// lack when it is empty.
fn axes(rank: usize) -> &'static [(&'static str, &'static str)] {
    if rank == 2 {
        &[("height", "rows"), ("width", "columns")]
    } else {
        &[("length", "steps")]
    }
}

fn resolve(
    rank: usize,
    args: &Args,
    input: Option<&[usize]>,
    site: &Site,
    errors: &mut Vec<syn::Error>,
) -> Resolved {
    let rt = quote!(::kerust::__private::layers);
    let layer = site.layer;
    let filters = args.int(FILTERS);
    let kernel = ints(args, KERNEL_SIZE, "kernel_size", rank, layer, errors);
    let strides = ints(args, STRIDES, "strides", rank, layer, errors);
    let dilation = ints(args, DILATION_RATE, "dilation_rate", rank, layer, errors);
    let padding = args.choice(PADDING).unwrap_or("valid");
    check_groups(args, layer, errors);
    // Keras: "`strides > 1` not supported in conjunction with `dilation_rate > 1`".
    if let (Some(s), Some(d), Some((_, s_tokens)), Some((_, d_tokens))) = (
        &strides,
        &dilation,
        args.nested(STRIDES),
        args.nested(DILATION_RATE),
    ) {
        if s.iter().any(|&v| v > 1) && d.iter().any(|&v| v > 1) {
            errors.push(syn::Error::new_spanned(
                s_tokens,
                format!(
                    "layer `{layer}`: `strides = {s_tokens}` cannot be combined with `dilation_rate = {d_tokens}`\nhelp: Keras supports strides above 1 or dilation rates above 1, not both; keep one of them at 1"
                ),
            ));
        }
    }
    let spatial = input.and_then(|shape| check_input(rank, shape, site, errors));

    // Output size per axis, as Keras computes it.
    let mut out: Option<Vec<usize>> = None;
    if let (Some((space, c)), Some(k), Some(s), Some(d)) = (spatial, &kernel, &strides, &dilation) {
        let mut too_large = Vec::new();
        let mut dims = Vec::new();
        for (axis, &(name, _)) in axes(rank).iter().enumerate() {
            let (n, k, s, d) = (space[axis], k[axis], s[axis], d[axis]);
            // Saturating: absurd literals must give an error, not a panic in the macro.
            let span = d.saturating_mul(k - 1).saturating_add(1);
            if padding == "valid" {
                if n < span {
                    let kernel = if d > 1 {
                        format!("the dilated kernel {name} {span} (kernel_size {k}, dilation_rate {d})")
                    } else {
                        format!("the kernel {name} {k}")
                    };
                    too_large.push((axis, format!("{kernel} is larger than the input {name} {n}")));
                }
                dims.push((n.saturating_sub(span)) / s + 1);
            } else {
                dims.push(n.div_ceil(s));
            }
        }
        if too_large.is_empty() {
            // The kernel and the patches of one sample are arrays: their sizes must fit.
            let taps = k.iter().try_fold(c, |acc, &v| acc.checked_mul(v));
            let kernel_len = taps.and_then(|t| t.checked_mul(filters.unwrap_or(1)));
            let patches_len = taps.and_then(|t| dims.iter().try_fold(t, |acc, &v| acc.checked_mul(v)));
            let fits = |n: Option<usize>| n.is_some_and(|n| n <= MAX_VALUES);
            match args.nested(KERNEL_SIZE) {
                Some((_, k_tokens)) if !fits(kernel_len) || !fits(patches_len) => {
                    errors.push(syn::Error::new_spanned(
                        k_tokens,
                        format!(
                            "layer `{layer}`: `kernel_size = {k_tokens}` is too large: the kernel or the patches of one sample would have too many values\nhelp: convolution kernels are small windows, typically 1 to 7 values wide"
                        ),
                    ));
                }
                _ => out = Some(dims),
            }
        } else if let Some((_, k_tokens)) = args.nested(KERNEL_SIZE) {
            let what: Vec<String> = too_large.iter().map(|(_, m)| m.clone()).collect();
            let empty: Vec<&str> = too_large.iter().map(|&(a, _)| axes(rank)[a].1).collect();
            errors.push(syn::Error::new_spanned(
                k_tokens,
                format!(
                    "layer `{layer}`: {}, so the output would have no {}\nhelp: with `padding = valid` every window must fit inside the input: use `padding = same` or a smaller `kernel_size`",
                    what.join(", and "),
                    empty.join(" and ")
                ),
            ));
            if let (Some(prev), Some(shape)) = (site.prev, input) {
                errors.push(syn::Error::new(
                    prev.span(),
                    format!(
                        "{} `{prev}` produces the shape {shape:?} that `{layer}` receives",
                        site.word()
                    ),
                ));
            }
        }
    }

    let (act_name, act_ty) = args.activation(ACTIVATION).unwrap_or(("linear", "Linear"));
    let act = act_type(act_ty);
    let bias = args.bool(USE_BIAS).unwrap_or(true);
    let f = filters.unwrap_or(0);
    let bias_ty = if bias {
        quote!([f32; #f])
    } else {
        quote!(#rt::NoBias)
    };
    let pad_ty = match padding {
        "same" => quote!(#rt::Same),
        "causal" => quote!(#rt::Causal),
        _ => quote!(#rt::Valid),
    };
    let zeros = vec![0; rank];
    let (space, c) = spatial.unwrap_or((&zeros, 0));
    let (k, s, d) = (
        kernel.clone().unwrap_or_else(|| zeros.clone()),
        strides.clone().unwrap_or_else(|| zeros.clone()),
        dilation.clone().unwrap_or_else(|| zeros.clone()),
    );
    let o = out.clone().unwrap_or_else(|| zeros.clone());
    let ty = if rank == 2 {
        let (h, w, kh, kw, sh, sw, dh, dw, oh, ow) =
            (space[0], space[1], k[0], k[1], s[0], s[1], d[0], d[1], o[0], o[1]);
        quote!(#rt::Conv2D<#h, #w, #c, #f, #kh, #kw, #sh, #sw, #dh, #dw, #oh, #ow, #pad_ty, #act, #bias_ty>)
    } else {
        let (l, k, s, d, ol) = (space[0], k[0], s[0], d[0], o[0]);
        quote!(#rt::Conv1D<#l, #c, #f, #k, #s, #d, #ol, #pad_ty, #act, #bias_ty>)
    };

    let describe = {
        let tuple = |v: &[usize]| match v {
            [one] => one.to_string(),
            _ => format!(
                "({})",
                v.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            ),
        };
        let mut s = format!("{}({f}, {}", site.kind, tuple(&k));
        if strides.as_ref().is_some_and(|v| v.iter().any(|&x| x != 1)) {
            s += &format!(", strides = {}", tuple(&strides.clone().unwrap_or_default()));
        }
        if padding != "valid" {
            s += &format!(", padding = {padding}");
        }
        if dilation.as_ref().is_some_and(|v| v.iter().any(|&x| x != 1)) {
            s += &format!(
                ", dilation_rate = {}",
                tuple(&dilation.clone().unwrap_or_default())
            );
        }
        if act_name != "linear" {
            s += &format!(", activation = {act_name}");
        }
        if !bias {
            s += ", use_bias = false";
        }
        s + ")"
    };
    Resolved {
        ty,
        output: match (out, filters) {
            (Some(mut dims), Some(f)) => {
                dims.push(f);
                Some(dims)
            }
            _ => None,
        },
        describe,
    }
}

/// `kernel_size`, `strides` or `dilation_rate`: an integer (the same for every axis) or a
/// tuple of `rank` integers, each at least 1. Defaults to 1 on every axis when not given
/// (`kernel_size` is required, and reported missing by `check`).
fn ints(
    args: &Args,
    index: usize,
    name: &str,
    rank: usize,
    layer: &Ident,
    errors: &mut Vec<syn::Error>,
) -> Option<Vec<usize>> {
    let Some((nested, tokens)) = args.nested(index) else {
        // Not given, or did not parse (already reported): the default, 1, so that the
        // other checks still run. `kernel_size` has no default (reported by `check`).
        return (index != KERNEL_SIZE).then(|| vec![1; rank]);
    };
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
                "an integer or a tuple of 1 integer, such as `3`".to_string()
            } else {
                format!("an integer or a tuple of {rank} integers, such as `3` or `(3, 3)`")
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
        let what = match index {
            KERNEL_SIZE => "the window size along each axis, such as `3` or `(3, 3)`",
            STRIDES => "the step between windows along each axis; 1 (the default) moves one value at a time",
            _ => {
                "the spacing between kernel taps along each axis; 1 (the default) is an ordinary convolution"
            }
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

/// `groups` other than 1 (grouped convolution) is not implemented.
fn check_groups(args: &Args, layer: &Ident, errors: &mut Vec<syn::Error>) {
    if let (Some(groups), Some((_, tokens))) = (args.int(GROUPS), args.get(GROUPS)) {
        if groups != 1 {
            errors.push(syn::Error::new_spanned(
                tokens,
                format!(
                    "layer `{layer}`: grouped convolutions (`groups = {groups}`) are not supported\nhelp: remove `groups`; every filter sees all input channels (`groups = 1`)"
                ),
            ));
        }
    }
}

/// The input's spatial dimensions and channels, or an error when its rank is not
/// `rank + 1`.
fn check_input<'a>(
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
    let help = match (reshape, rank, shape) {
        (Some(target), _, _) => site.insert_before("reshape", &format!("Reshape({target})")),
        (None, 1, [h, w, c]) => format!(
            "for images use `Conv2D`; to read the rows as one sequence, {}",
            site.insert_before("reshape", &format!("Reshape(({}, {c}))", h * w))
        ),
        (None, 2, _) => {
            format!("give `{layer}` one (height, width, channels) image per sample, with `Reshape`")
        }
        (None, _, _) => format!("give `{layer}` one (steps, channels) sequence per sample, with `Reshape`"),
    };
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
