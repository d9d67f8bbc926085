//! The macro must never panic, whatever it is given: every input ends in tokens (the model
//! or its errors). These tests run the phases on valid, broken and mutated declarations.

use proc_macro2::{TokenStream, TokenTree};
use quote::quote;

use crate::{ast, check, expand, fallback, graph};

/// What `model!` does, on `proc_macro2` tokens.
fn run(input: TokenStream) -> (TokenStream, bool) {
    let def = match syn::parse2::<ast::Decl>(input.clone()) {
        Ok(def) => def,
        Err(err) => return (fallback::unparsed(input, &err), false),
    };
    match def {
        ast::Decl::Sequential(def) => match check::check(&def) {
            Ok(model) => (expand::model(&model), true),
            Err(failed) => (fallback::model(&def, &failed), false),
        },
        ast::Decl::Functional(def) => match graph::check::check(&def) {
            Ok(g) => (graph::expand::model(&g), true),
            Err(e) => (fallback::graph(&def, &e), false),
        },
    }
}

fn valid_graph() -> TokenStream {
    quote! {
        /// Docs.
        pub struct G {
            img = Input<6, 6, 2>;
            tab = Input<5>;
            c = Conv2D(3, 3, padding = same)(img);
            s = Add(img, img);
            j = Concatenate(axis = -1)(c, s);
            f = Flatten()(j);
            shared: Dense(5, activation = tanh);
            a = shared(tab);
            b = shared(a);
            d = Dot(a, b, axes = 1, normalize = true);
            m = Maximum(a, b);
            h = Dense(4)(f);
            outputs(h, d, m);
        }
    }
}

#[test]
fn valid_graph_expands() {
    let (out, ok) = run(valid_graph());
    assert!(ok, "{out}");
}

#[test]
fn graph_mutants_never_panic() {
    let all = mutants(&valid_graph());
    assert!(all.len() > 500);
    for m in all {
        let text = m.to_string();
        if std::panic::catch_unwind(|| run(m)).is_err() {
            panic!("panicked on {text}");
        }
    }
}

fn errors(input: TokenStream) -> String {
    let (out, ok) = run(input);
    assert!(!ok, "expected errors");
    out.to_string()
}

fn valid() -> TokenStream {
    quote! {
        /// Docs.
        pub(crate) struct Net: Input<28, 28, 1> {
            flat: Flatten,
            grid: Reshape((4, -1, 2)),
            again: Flatten(),
            hidden: Dense(64, activation = relu, use_bias = false),
            act: Activation("tanh"),
            leaky: LeakyReLU(0.1),
            elu: ELU(alpha = 1.0),
            relu: ReLU,
            drop: Dropout(rate = 0.5),
            out: Dense(units = 10, activation = softmax),
            soft: Softmax,
        }
    }
}

#[test]
fn valid_model_expands() {
    let (out, ok) = run(valid());
    assert!(ok, "{out}");
    let out = out.to_string();
    assert!(out.contains("Dense < 784usize , 64usize"), "{out}");
}

#[test]
fn garbage_never_panics() {
    let cases = [
        quote!(),
        quote!(struct),
        quote!(struct Foo),
        quote!(struct Foo:),
        quote!(struct Foo: Input),
        quote!(struct Foo: Input<),
        quote!(struct Foo: Input<>),
        quote!(struct Foo: Input<> {}),
        quote!(struct Foo: Input<N> { .. }),
        quote!(struct Foo: Input<16> out: Dense(2)),
        quote!(struct Foo: Input<16> { out Dense(2) }),
        quote!(struct Foo: Input<16> { out: }),
        quote!(struct Foo: Input<16> { out: Dense(((2))) }),
        quote!(struct Foo: Input<16> { out: Dense((2, 3)) }),
        quote!(struct Foo: Input<16> { out: Dense(2),,, }),
        quote!(struct Foo: Input<16> { out: Dense<2> }),
        quote!(struct Foo: Input<16> { out: nn::Dense(2) }),
        quote!(struct Foo: Input<16> { out: Dense(2) } trailing),
        quote!(struct Foo: Input<16,> { out: Dense(2,), }),
        quote!(struct Foo: Input<-1> { out: Dense(2) }),
        quote!(struct Foo: Input<1.5> { out: Dense(2) }),
        quote!(struct Foo: Input<16 16> { out: Dense(2) }),
        quote!(struct Foo: Input<99999999999999999999999> { out: Dense(2) }),
        quote!(struct Foo: Input<4294967296, 4294967296, 4294967296> { out: Dense(2) }),
        quote!(struct Foo: Input<1, 1, 1, 1, 1, 1, 1, 1, 1> { out: Dense(2) }),
        quote!(struct Foo: Input<16> { out: Dense(99999999999999999999999) }),
        quote!(struct Foo: Input<16> { out: Dense(-9223372036854775808) }),
        quote!(struct Foo: Input<16> { out: Dense(9223372036854775807), o2: Dense(9223372036854775807) }),
        quote!(struct Foo: Input<16> { r: Reshape((9223372036854775807, 9223372036854775807)) }),
        quote!(struct Foo: Input<16> { r: Reshape((9223372036854775807, -1)) }),
        quote!(struct Foo: Input<16> { r: Reshape(()) }),
        quote!(struct Foo: Input<16> { r: Reshape([]) }),
        quote!(struct Foo: Input<16> { r: Reshape((3, -1)) }),
        quote!(struct Foo: Input<16> { d: Dropout(-0.5) }),
        quote!(struct Foo: Input<16> { d: Dropout(1e999) }),
        quote!(struct Foo: Input<16> { l: LeakyReLU(1e999) }),
        quote!(struct Foo: Input<16> { a: Activation(relu::x) }),
        quote!(struct Foo: Input<16> { a: Activation(r#"x"#) }),
        quote!(struct Foo: Input<16> { a: Dense(2, activation = ) }),
        quote!(struct Foo: Input<16> { a: Dense(2, 3, 4, 5, 6) }),
        quote!(struct Foo: Input<16> { a: Dense(units = 2, units = 3, unit = 4) }),
        quote!(struct Foo: Input<16> { a: Dense(2), a: Dense(2), a: Dense(2) }),
        quote!(struct Foo: Input<16> { a: Dens(2), b: Dense(2), c: Flatten(1, 2) }),
        quote!(struct Foo: Input<16> { #[doc] a: Dense(2) }),
        quote!(pub(in crate::x) struct Foo: Input<16> { a: Dense(2) }),
        quote!(#[x] #[y] pub enum Foo: Input<16> { a: Dense(2) }),
        quote!(fn struct Foo),
    ];
    for case in cases {
        let _ = run(case);
    }
}

/// Every declaration made by deleting, duplicating or replacing one token of `tokens`, at
/// every depth.
fn mutants(tokens: &TokenStream) -> Vec<TokenStream> {
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    let junk: [TokenTree; 4] = [
        TokenTree::Literal(proc_macro2::Literal::i64_unsuffixed(0)),
        TokenTree::Literal(proc_macro2::Literal::f64_unsuffixed(1.5)),
        TokenTree::Punct(proc_macro2::Punct::new('-', proc_macro2::Spacing::Alone)),
        TokenTree::Ident(proc_macro2::Ident::new("x", proc_macro2::Span::call_site())),
    ];
    let mut out = Vec::new();
    for i in 0..trees.len() {
        let mut deleted = trees.clone();
        deleted.remove(i);
        out.push(deleted.into_iter().collect());
        let mut doubled = trees.clone();
        doubled.insert(i, trees[i].clone());
        out.push(doubled.into_iter().collect());
        for j in &junk {
            let mut replaced = trees.clone();
            replaced[i] = j.clone();
            out.push(replaced.into_iter().collect());
        }
        if let TokenTree::Group(g) = &trees[i] {
            for inner in mutants(&g.stream()) {
                let mut nested = trees.clone();
                nested[i] = TokenTree::Group(proc_macro2::Group::new(g.delimiter(), inner));
                out.push(nested.into_iter().collect());
            }
        }
    }
    out
}

/// Runs the macro on each mutant of a valid declaration.
#[test]
fn mutants_never_panic() {
    let all = mutants(&valid());
    assert!(all.len() > 500);
    for m in all {
        let _ = run(m);
    }
}

#[test]
fn every_mistake_reported_together() {
    let msg = errors(quote! {
        struct Foo: Input<16> {
            a: Dense(8, activation = rleu),
            b: Dropout(2.0),
            c: Dense(0),
            d: Dens(3),
            e: Dense(4),
        }
    });
    for part in [
        "did you mean `relu`",
        "[0, 1)",
        "at least 1",
        "did you mean `Dense`",
    ] {
        assert!(msg.contains(part), "missing {part:?} in {msg}");
    }
}

#[test]
fn shapes_flow_past_mistakes() {
    // `a`'s activation is wrong, but its 8 units still reach `r`, whose target is wrong.
    let msg = errors(quote! {
        struct Foo: Input<16> {
            a: Dense(8, activation = rleu),
            r: Reshape((3, 3)),
        }
    });
    assert!(msg.contains("cannot reshape [8]"), "{msg}");
}

#[test]
fn huge_shapes_are_errors() {
    let msg = errors(quote! {
        struct Foo: Input<4294967296, 4294967296, 4294967296> { out: Dense(2) }
    });
    assert!(msg.contains("too many values"), "{msg}");
    let msg = errors(quote! {
        struct Foo: Input<4294967296> { r: Reshape((4294967296, 4294967296, -1)) }
    });
    assert!(msg.contains("too many values"), "{msg}");
}

#[test]
fn unparsed_model_keeps_its_name() {
    let (out, _) = run(quote!(pub(crate) struct Net: Input<16> { out Dense(2) }));
    let out = out.to_string();
    assert!(out.contains("pub (crate) struct Net"), "{out}");
    assert!(out.contains("compile_error"), "{out}");
}
