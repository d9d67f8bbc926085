//! Image borders and sizes, channels-last: `ZeroPadding2D(padding, data_format)`,
//! `Cropping2D(cropping, data_format)` and `UpSampling2D(size, data_format, interpolation)`.

use quote::quote;
use syn::Ident;

use super::pooling::{check_input, note_prev, push_at_arg, sizes, tuple};
use super::{p, ArgKind, Args, Resolved, Site, Spec};

pub const ZERO_PADDING_2D: Spec = Spec {
    name: "ZeroPadding2D",
    params: &[
        p("padding", ArgKind::Ints, false),
        p("data_format", ArgKind::Choice(&["channels_last"]), false),
    ],
    example: "ZeroPadding2D(((1, 1), (2, 2)))",
    resolve: resolve_borders,
};
pub const CROPPING_2D: Spec = Spec {
    name: "Cropping2D",
    params: &[
        p("cropping", ArgKind::Ints, false),
        p("data_format", ArgKind::Choice(&["channels_last"]), false),
    ],
    example: "Cropping2D(((1, 1), (2, 2)))",
    resolve: resolve_borders,
};
pub const UP_SAMPLING_2D: Spec = Spec {
    name: "UpSampling2D",
    params: &[
        p("size", ArgKind::Ints, false),
        p("data_format", ArgKind::Choice(&["channels_last"]), false),
        p("interpolation", ArgKind::Choice(&["nearest", "bilinear"]), false),
    ],
    example: "UpSampling2D((2, 2))",
    resolve: resolve_up_sampling,
};

/// `((top, bottom), (left, right))` from Keras's three forms: `p`, `(h, w)` and
/// `((top, bottom), (left, right))` (each entry of a pair may also be a single integer, as
/// Keras's `standardize_tuple` allows). `None` after an error.
fn borders(
    nested: &[Vec<usize>],
    tokens: &proc_macro2::TokenStream,
    name: &str,
    layer: &Ident,
    errors: &mut Vec<syn::Error>,
) -> Option<[[usize; 2]; 2]> {
    let pair = |v: &[usize]| match *v {
        [x] => Some([x, x]),
        [a, b] => Some([a, b]),
        _ => None,
    };
    let parsed = match nested {
        [one] if one.len() == 1 => Some([[one[0]; 2]; 2]),
        [h, w] => pair(h).zip(pair(w)).map(|(h, w)| [h, w]),
        _ => None,
    };
    if parsed.is_none() {
        let example = if name == "padding" {
            "1`, `(1, 2)` or `((1, 0), (2, 2))"
        } else {
            "2`, `(2, 4)` or `((2, 0), (4, 4))"
        };
        errors.push(syn::Error::new_spanned(
            tokens,
            format!(
                "layer `{layer}`: `{name}` must be an integer, a tuple of 2 integers or a tuple of 2 pairs, such as `{example}`, found `{tokens}`\nhelp: `(h, w)` applies `h` at the top and bottom and `w` on the left and right; `((top, bottom), (left, right))` gives each side"
            ),
        ));
    }
    parsed
}

fn resolve_borders(
    args: &Args,
    input: Option<&[usize]>,
    site: &Site,
    errors: &mut Vec<syn::Error>,
) -> Resolved {
    let layer = site.layer;
    let crop = site.kind == "Cropping2D";
    let name = if crop { "cropping" } else { "padding" };
    let spatial = input.and_then(|shape| check_input(2, shape, site, errors));
    // Keras's defaults: `padding = (1, 1)`, `cropping = ((0, 0), (0, 0))`.
    let sides = match args.nested(0) {
        Some((nested, tokens)) => borders(nested, tokens, name, layer, errors),
        None if crop => Some([[0, 0], [0, 0]]),
        None => Some([[1, 1], [1, 1]]),
    };
    let mut out: Option<Vec<usize>> = None;
    if let (Some((space, c)), Some(sides)) = (spatial, sides) {
        let (h, w) = (space[0], space[1]);
        let [[top, bottom], [left, right]] = sides;
        if crop {
            let mut empty = Vec::new();
            for (n, [a, b], axis, cells) in [
                (h, [top, bottom], "height", "rows"),
                (w, [left, right], "width", "columns"),
            ] {
                if a.saturating_add(b) >= n {
                    empty.push(format!(
                        "`cropping` removes {a} + {b} {cells} from an input of {axis} {n}, leaving none"
                    ));
                }
            }
            if empty.is_empty() {
                out = Some(vec![h - top - bottom, w - left - right, c]);
            } else {
                push_at_arg(
                    args,
                    0,
                    site,
                    errors,
                    format!(
                        "layer `{layer}`: {}\nhelp: `cropping = ((top, bottom), (left, right))` must leave at least one row and one column",
                        empty.join(", and ")
                    ),
                );
                note_prev(site, input, errors);
            }
        } else {
            let grown = |n: usize, a: usize, b: usize| n.checked_add(a)?.checked_add(b);
            match (grown(h, top, bottom), grown(w, left, right)) {
                (Some(oh), Some(ow)) => out = Some(vec![oh, ow, c]),
                _ => push_at_arg(
                    args,
                    0,
                    site,
                    errors,
                    format!("layer `{layer}`: `padding` makes an image with too many values"),
                ),
            }
        }
    }
    let rt = quote!(::kerust::__private::layers);
    let kind = Ident::new(site.kind, proc_macro2::Span::call_site());
    let (h, w, c) = spatial.map_or((0, 0, 0), |(s, c)| (s[0], s[1], c));
    let [[top, bottom], [left, right]] = sides.unwrap_or_default();
    let (oh, ow) = out.as_deref().map_or((0, 0), |o| (o[0], o[1]));
    Resolved {
        ty: quote!(#rt::#kind<#h, #w, #c, #top, #bottom, #left, #right, #oh, #ow>),
        output: out,
        describe: format!("{}((({top}, {bottom}), ({left}, {right})))", site.kind),
    }
}

fn resolve_up_sampling(
    args: &Args,
    input: Option<&[usize]>,
    site: &Site,
    errors: &mut Vec<syn::Error>,
) -> Resolved {
    let layer = site.layer;
    let spatial = input.and_then(|shape| check_input(2, shape, site, errors));
    // Keras: `size = (2, 2)`.
    let size =
        sizes(args, 0, "size", 2, layer, errors).or_else(|| args.nested(0).is_none().then(|| vec![2, 2]));
    let interpolation = args.choice(2).unwrap_or("nearest");
    let mut out = None;
    if let (Some((space, c)), Some(size)) = (spatial, &size) {
        match (space[0].checked_mul(size[0]), space[1].checked_mul(size[1])) {
            (Some(oh), Some(ow)) => out = Some(vec![oh, ow, c]),
            _ => push_at_arg(
                args,
                0,
                site,
                errors,
                format!("layer `{layer}`: `size` makes an image with too many values"),
            ),
        }
    }
    let rt = quote!(::kerust::__private::layers);
    let (h, w, c) = spatial.map_or((0, 0, 0), |(s, c)| (s[0], s[1], c));
    let s = size.clone().unwrap_or_else(|| vec![0, 0]);
    let (sh, sw) = (s[0], s[1]);
    let (oh, ow) = out.as_deref().map_or((0, 0), |o| (o[0], o[1]));
    let interp = if interpolation == "bilinear" {
        quote!(#rt::Bilinear)
    } else {
        quote!(#rt::Nearest)
    };
    let mut describe = format!("UpSampling2D({}", tuple(&s));
    if interpolation != "nearest" {
        describe += &format!(", interpolation = {interpolation}");
    }
    Resolved {
        ty: quote!(#rt::UpSampling2D<#h, #w, #c, #sh, #sw, #oh, #ow, #interp>),
        output: out,
        describe: describe + ")",
    }
}
