//! The other 2-D convolutions, channels-last, with Keras's arguments in Keras's order:
//! `DepthwiseConv2D(kernel_size, strides, padding, depth_multiplier, data_format,
//! dilation_rate, activation, use_bias)`, `SeparableConv2D(filters, kernel_size, strides,
//! padding, data_format, dilation_rate, depth_multiplier, activation, use_bias)` and
//! `Conv2DTranspose(filters, kernel_size, strides, padding, output_padding, data_format,
//! dilation_rate, activation, use_bias)`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Ident;

use super::pooling::{check_input, note_prev, tuple};
use super::{act_type, p, ArgKind, Args, Param, Resolved, Site, Spec};

pub const DEPTHWISE_CONV_2D: Spec = Spec {
    name: "DepthwiseConv2D",
    params: &[
        p("kernel_size", ArgKind::Ints, true),
        p("strides", ArgKind::Ints, false),
        p("padding", ArgKind::Choice(&["valid", "same"]), false),
        p("depth_multiplier", ArgKind::Units, false),
        p("data_format", ArgKind::Choice(&["channels_last"]), false),
        p("dilation_rate", ArgKind::Ints, false),
        p("activation", ArgKind::Activation, false),
        p("use_bias", ArgKind::Bool, false),
    ],
    example: "DepthwiseConv2D(3, padding = same, depth_multiplier = 2)",
    resolve: resolve_depthwise,
};
pub const SEPARABLE_CONV_2D: Spec = Spec {
    name: "SeparableConv2D",
    params: &[
        p("filters", ArgKind::Units, true),
        p("kernel_size", ArgKind::Ints, true),
        p("strides", ArgKind::Ints, false),
        p("padding", ArgKind::Choice(&["valid", "same"]), false),
        p("data_format", ArgKind::Choice(&["channels_last"]), false),
        p("dilation_rate", ArgKind::Ints, false),
        p("depth_multiplier", ArgKind::Units, false),
        p("activation", ArgKind::Activation, false),
        p("use_bias", ArgKind::Bool, false),
    ],
    example: "SeparableConv2D(32, 3, padding = same, activation = relu)",
    resolve: resolve_separable,
};
pub const CONV_2D_TRANSPOSE: Spec = Spec {
    name: "Conv2DTranspose",
    params: &[
        p("filters", ArgKind::Units, true),
        p("kernel_size", ArgKind::Ints, true),
        p("strides", ArgKind::Ints, false),
        p("padding", ArgKind::Choice(&["valid", "same"]), false),
        p("output_padding", ArgKind::Ints, false),
        p("data_format", ArgKind::Choice(&["channels_last"]), false),
        p("dilation_rate", ArgKind::Ints, false),
        p("activation", ArgKind::Activation, false),
        p("use_bias", ArgKind::Bool, false),
    ],
    example: "Conv2DTranspose(16, 3, strides = 2, padding = same)",
    resolve: resolve_transpose,
};

/// The most values the kernel or the patches of one sample may have (as for `Conv2D`:
/// arrays are limited to `isize::MAX` bytes).
const MAX_VALUES: usize = isize::MAX as usize / 8;

/// The spatial axes: name, and what the output would lack when it is empty.
const AXES: [(&str, &str); 2] = [("height", "rows"), ("width", "columns")];

/// A layer's arguments, looked up by Keras's names (the three kinds order them differently).
struct Named<'a> {
    args: &'a Args,
    params: &'static [Param],
}

impl Named<'_> {
    fn index(&self, name: &str) -> Option<usize> {
        self.params.iter().position(|p| p.name == name)
    }
    fn int(&self, name: &str) -> Option<usize> {
        self.index(name).and_then(|i| self.args.int(i))
    }
    fn tokens(&self, name: &str) -> Option<&TokenStream> {
        self.index(name).and_then(|i| self.args.get(i)).map(|(_, t)| t)
    }
    /// `kernel_size`, `strides`, `dilation_rate` or `output_padding`: an integer (the same
    /// for both axes) or a pair. `Some(None)` when not given, `None` after an error.
    fn pair(&self, name: &str, layer: &Ident, errors: &mut Vec<syn::Error>) -> Option<Option<[usize; 2]>> {
        let Some((nested, tokens)) = self.index(name).and_then(|i| self.args.nested(i)) else {
            // Not given, or did not parse (already reported, and `None` hides the value).
            let given = self.index(name).and_then(|i| self.args.get(i)).is_some();
            return (!given).then_some(None);
        };
        let flat: Option<Vec<usize>> = nested
            .iter()
            .map(|v| match v.as_slice() {
                [x] => Some(*x),
                _ => None,
            })
            .collect();
        let values = match flat.as_deref() {
            Some(&[v]) => [v, v],
            Some(&[h, w]) => [h, w],
            _ => {
                errors.push(syn::Error::new_spanned(
                    tokens,
                    format!(
                        "layer `{layer}`: `{name}` must be an integer or a tuple of 2 integers, such as `3` or `(3, 3)`, found `{tokens}`\nhelp: one value per spatial axis (height, width); a single integer applies to both"
                    ),
                ));
                return None;
            }
        };
        if name != "output_padding" && values.contains(&0) {
            let what = match name {
                "kernel_size" => "the window size along each axis, such as `3` or `(3, 3)`",
                "strides" => "the step between windows along each axis; 1 (the default) moves one value at a time",
                _ => "the spacing between kernel taps along each axis; 1 (the default) is an ordinary convolution",
            };
            errors.push(syn::Error::new_spanned(
                tokens,
                format!(
                    "layer `{layer}`: `{name}` must be at least 1, found `{tokens}`\nhelp: `{name}` is {what}"
                ),
            ));
            return None;
        }
        Some(Some(values))
    }
}

fn resolve_depthwise(
    args: &Args,
    input: Option<&[usize]>,
    site: &Site,
    errors: &mut Vec<syn::Error>,
) -> Resolved {
    resolve(&DEPTHWISE_CONV_2D, args, input, site, errors)
}

fn resolve_separable(
    args: &Args,
    input: Option<&[usize]>,
    site: &Site,
    errors: &mut Vec<syn::Error>,
) -> Resolved {
    resolve(&SEPARABLE_CONV_2D, args, input, site, errors)
}

fn resolve_transpose(
    args: &Args,
    input: Option<&[usize]>,
    site: &Site,
    errors: &mut Vec<syn::Error>,
) -> Resolved {
    resolve(&CONV_2D_TRANSPOSE, args, input, site, errors)
}

fn resolve(
    spec: &Spec,
    args: &Args,
    input: Option<&[usize]>,
    site: &Site,
    errors: &mut Vec<syn::Error>,
) -> Resolved {
    let rt = quote!(::kerust::__private::layers);
    let layer = site.layer;
    let named = Named {
        args,
        params: spec.params,
    };
    let transpose = spec.name == "Conv2DTranspose";
    let filters = named.int("filters");
    // `depth_multiplier` is a positive integer (checked when parsed); Keras's default is 1.
    let multiplier = named.int("depth_multiplier").unwrap_or(1);
    let kernel = named.pair("kernel_size", layer, errors).flatten();
    let strides = named.pair("strides", layer, errors).map(|s| s.unwrap_or([1, 1]));
    let dilation = named
        .pair("dilation_rate", layer, errors)
        .map(|d| d.unwrap_or([1, 1]));
    let output_padding = named.pair("output_padding", layer, errors);
    let padding = named
        .index("padding")
        .and_then(|i| args.choice(i))
        .unwrap_or("valid");

    // Keras's `Conv2DTranspose` raises "`strides > 1` not supported in conjunction with
    // `dilation_rate > 1`"; its depthwise and separable layers accept the combination.
    if let (true, Some(s), Some(d), Some(s_tokens), Some(d_tokens)) = (
        transpose,
        strides,
        dilation,
        named.tokens("strides"),
        named.tokens("dilation_rate"),
    ) {
        if s.iter().any(|&v| v > 1) && d.iter().any(|&v| v > 1) {
            errors.push(syn::Error::new_spanned(
                s_tokens,
                format!(
                    "layer `{layer}`: `strides = {s_tokens}` cannot be combined with `dilation_rate = {d_tokens}`\nhelp: Keras's `Conv2DTranspose` supports strides above 1 or dilation rates above 1, not both; keep one of them at 1"
                ),
            ));
        }
    }
    // Keras: "`output_padding` must be strictly less than `strides` for all dimensions".
    let mut output_padding = output_padding.flatten();
    if let (Some(op), Some(s), Some(op_tokens)) = (output_padding, strides, named.tokens("output_padding")) {
        if op[0] >= s[0] || op[1] >= s[1] {
            let s_text = named.tokens("strides").map_or_else(
                || "`strides` (1 by default)".to_string(),
                |t| format!("`strides = {t}`"),
            );
            errors.push(syn::Error::new_spanned(
                op_tokens,
                format!(
                    "layer `{layer}`: `output_padding = {op_tokens}` must be less than {s_text} along each axis\nhelp: `output_padding` lengthens the output by 0 to `strides - 1` rows and columns; leave it out for Keras's default size"
                ),
            ));
            output_padding = None;
        }
    }
    let spatial = input.and_then(|shape| check_input(2, shape, site, errors));

    let mut out: Option<[usize; 2]> = None;
    if let (Some((space, c)), Some(k), Some(s), Some(d)) = (spatial, kernel, strides, dilation) {
        let sizes = if transpose {
            transpose_sizes(
                space,
                k,
                s,
                d,
                padding,
                output_padding,
                named.tokens("output_padding"),
                site,
                input,
                errors,
            )
        } else {
            conv_sizes(space, k, s, d, padding, &named, site, input, errors)
        };
        if let Some([oh, ow]) = sizes {
            // The kernels and the per-sample buffers (the depthwise output, the columns) are
            // arrays: their sizes must fit.
            let mul = |a: Option<usize>, b: usize| a.and_then(|a| a.checked_mul(b));
            let taps = k[0].checked_mul(k[1]);
            let f = filters.unwrap_or(1);
            let cm = c.checked_mul(multiplier);
            let arrays = match spec.name {
                "DepthwiseConv2D" => vec![mul(taps, c).and_then(|v| v.checked_mul(multiplier))],
                "SeparableConv2D" => vec![
                    mul(taps, c).and_then(|v| v.checked_mul(multiplier)),
                    mul(cm, f),
                    mul(cm, oh).and_then(|v| v.checked_mul(ow)),
                ],
                _ => vec![
                    mul(taps, f).and_then(|v| v.checked_mul(c)),
                    mul(mul(taps, f), space[0]).and_then(|v| v.checked_mul(space[1])),
                ],
            };
            let fits = |n: &Option<usize>| n.is_some_and(|n| n <= MAX_VALUES);
            match (named.tokens("kernel_size"), named.tokens("depth_multiplier")) {
                (_, Some(m_tokens)) if !transpose && !fits(&cm) => {
                    errors.push(syn::Error::new_spanned(
                        m_tokens,
                        format!(
                            "layer `{layer}`: `depth_multiplier = {m_tokens}` is too large: the layer would have too many channels\nhelp: `depth_multiplier` is the number of filters per input channel, typically 1 or 2"
                        ),
                    ));
                }
                (Some(k_tokens), _) if !arrays.iter().all(fits) => {
                    errors.push(syn::Error::new_spanned(
                        k_tokens,
                        format!(
                            "layer `{layer}`: `kernel_size = {k_tokens}` is too large: the kernel or the patches of one sample would have too many values\nhelp: convolution kernels are small windows, typically 1 to 7 values wide"
                        ),
                    ));
                }
                _ => out = Some([oh, ow]),
            }
        }
    }

    // The output channels: `C * depth_multiplier` for the depthwise layer, else `filters`.
    let c = spatial.map_or(0, |(_, c)| c);
    let channels = if spec.name == "DepthwiseConv2D" {
        c.checked_mul(multiplier)
    } else {
        filters
    };
    let (act_name, act_ty) = named
        .index("activation")
        .and_then(|i| args.activation(i))
        .unwrap_or(("linear", "Linear"));
    let act = act_type(act_ty);
    let bias = named.index("use_bias").and_then(|i| args.bool(i)).unwrap_or(true);
    let (h, w) = spatial.map_or((0, 0), |(space, _)| (space[0], space[1]));
    let [kh, kw] = kernel.unwrap_or_default();
    let [sh, sw] = strides.unwrap_or_default();
    let [dh, dw] = dilation.unwrap_or_default();
    let [oh, ow] = out.unwrap_or_default();
    let (f, m) = (filters.unwrap_or(0), multiplier);
    let cm = c.checked_mul(m).unwrap_or(0);
    let out_channels = channels.unwrap_or(0);
    let bias_ty = if bias {
        quote!([f32; #out_channels])
    } else {
        quote!(#rt::NoBias)
    };
    let pad_ty = if padding == "same" {
        quote!(#rt::Same)
    } else {
        quote!(#rt::Valid)
    };
    let ty = match spec.name {
        "DepthwiseConv2D" => {
            quote!(#rt::DepthwiseConv2D<#h, #w, #c, #kh, #kw, #sh, #sw, #dh, #dw, #oh, #ow, #m, #cm, #pad_ty, #act, #bias_ty>)
        }
        "SeparableConv2D" => {
            quote!(#rt::SeparableConv2D<#h, #w, #c, #f, #kh, #kw, #sh, #sw, #dh, #dw, #oh, #ow, #m, #cm, #pad_ty, #act, #bias_ty>)
        }
        _ => {
            quote!(#rt::Conv2DTranspose<#h, #w, #c, #f, #kh, #kw, #sh, #sw, #dh, #dw, #oh, #ow, #pad_ty, #act, #bias_ty>)
        }
    };

    let describe = {
        let mut s = match filters {
            Some(f) => format!("{}({f}, {}", spec.name, tuple(&[kh, kw])),
            None => format!("{}({}", spec.name, tuple(&[kh, kw])),
        };
        if [sh, sw] != [1, 1] {
            s += &format!(", strides = {}", tuple(&[sh, sw]));
        }
        if padding != "valid" {
            s += &format!(", padding = {padding}");
        }
        if let Some(op) = output_padding {
            s += &format!(", output_padding = {}", tuple(&op));
        }
        if [dh, dw] != [1, 1] {
            s += &format!(", dilation_rate = {}", tuple(&[dh, dw]));
        }
        if m != 1 {
            s += &format!(", depth_multiplier = {m}");
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
        output: out.zip(channels).map(|([oh, ow], ch)| vec![oh, ow, ch]),
        describe,
    }
}

/// The output size of a depthwise (or separable) convolution, as Keras's
/// `compute_conv_output_shape`, or an error when a `valid` window does not fit.
#[allow(clippy::too_many_arguments)]
fn conv_sizes(
    space: &[usize],
    k: [usize; 2],
    s: [usize; 2],
    d: [usize; 2],
    padding: &str,
    named: &Named,
    site: &Site,
    input: Option<&[usize]>,
    errors: &mut Vec<syn::Error>,
) -> Option<[usize; 2]> {
    let layer = site.layer;
    let mut too_large = Vec::new();
    let mut dims = [0; 2];
    for (axis, &(name, _)) in AXES.iter().enumerate() {
        let (n, k, s, d) = (space[axis], k[axis], s[axis], d[axis]);
        // Saturating: absurd literals must give an error, not a panic in the macro.
        let span = d.saturating_mul(k - 1).saturating_add(1);
        dims[axis] = if padding == "valid" {
            if n < span {
                let kernel = if d > 1 {
                    format!("the dilated kernel {name} {span} (kernel_size {k}, dilation_rate {d})")
                } else {
                    format!("the kernel {name} {k}")
                };
                too_large.push((axis, format!("{kernel} is larger than the input {name} {n}")));
            }
            n.saturating_sub(span) / s + 1
        } else {
            n.div_ceil(s)
        };
    }
    if too_large.is_empty() {
        return Some(dims);
    }
    if let Some(k_tokens) = named.tokens("kernel_size") {
        let what: Vec<String> = too_large.iter().map(|(_, m)| m.clone()).collect();
        let empty: Vec<&str> = too_large.iter().map(|&(a, _)| AXES[a].1).collect();
        errors.push(syn::Error::new_spanned(
            k_tokens,
            format!(
                "layer `{layer}`: {}, so the output would have no {}\nhelp: with `padding = valid` every window must fit inside the input: use `padding = same` or a smaller `kernel_size`",
                what.join(", and "),
                empty.join(" and ")
            ),
        ));
        note_prev(site, input, errors);
    }
    None
}

/// The output size of a transposed convolution, as Keras's
/// `compute_conv_transpose_output_shape` (`k` is the dilated kernel):
/// `valid`: `(n - 1) * s + k + output_padding`, `output_padding` defaulting to
/// `max(k, s) - k`; `same`: `n * s` without `output_padding`, else
/// `(n - 1) * s + k % 2 + output_padding`. An error when it is empty or too large.
#[allow(clippy::too_many_arguments)]
fn transpose_sizes(
    space: &[usize],
    k: [usize; 2],
    s: [usize; 2],
    d: [usize; 2],
    padding: &str,
    output_padding: Option<[usize; 2]>,
    op_tokens: Option<&TokenStream>,
    site: &Site,
    input: Option<&[usize]>,
    errors: &mut Vec<syn::Error>,
) -> Option<[usize; 2]> {
    let layer = site.layer;
    let mut dims = [0; 2];
    let mut empty = Vec::new();
    for axis in 0..2 {
        let (n, k, s, d) = (space[axis], k[axis], s[axis], d[axis]);
        let span = d.checked_mul(k.saturating_sub(1)).and_then(|v| v.checked_add(1));
        let base = n.saturating_sub(1).checked_mul(s);
        let size = match (padding, output_padding) {
            ("valid", op) => span.zip(base).and_then(|(span, base)| {
                let op = op.map_or(span.max(s) - span, |op| op[axis]);
                base.checked_add(span)?.checked_add(op)
            }),
            (_, None) => n.checked_mul(s),
            (_, Some(op)) => span
                .zip(base)
                .and_then(|(span, base)| base.checked_add(span % 2)?.checked_add(op[axis])),
        };
        match size {
            Some(0) => empty.push((axis, s, span.unwrap_or(1) % 2)),
            Some(v) => dims[axis] = v,
            None => {
                errors.push(syn::Error::new_spanned(
                    site.call,
                    format!("layer `{layer}`: the output would have too many values\nhelp: use smaller `strides`, `kernel_size` or `dilation_rate`"),
                ));
                return None;
            }
        }
    }
    if empty.is_empty() {
        return Some(dims);
    }
    // Only `same` with an even kernel, `output_padding = 0` and one input row (or column)
    // gets here: `(1 - 1) * s + 0 + 0`.
    let axes: Vec<String> = empty
        .iter()
        .map(|&(a, s, odd)| format!("{} is (1 - 1) * {s} + {odd} + 0 = 0", AXES[a].0))
        .collect();
    let cells: Vec<&str> = empty.iter().map(|&(a, ..)| AXES[a].1).collect();
    let tokens = op_tokens.unwrap_or(site.call);
    errors.push(syn::Error::new_spanned(
        tokens,
        format!(
            "layer `{layer}`: with `padding = same` and `output_padding` the output {}, so it would have no {}\nhelp: Keras's output size is then `(input - 1) * strides + kernel_size % 2 + output_padding` (`kernel_size` dilated); leave `output_padding` out for `input * strides`, or make it at least 1",
            axes.join(", and the "),
            cells.join(" and ")
        ),
    ));
    note_prev(site, input, errors);
    None
}
