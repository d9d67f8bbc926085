//! Checks a functional declaration: every name defined once and used, references to
//! nodes only, no cycle, every shape inferred (layers as in the sequential form, merges
//! with Keras's rules). The result lists the nodes in an order where each comes after its
//! inputs.

use std::collections::HashMap;

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{Attribute, Expr, Ident};

use super::ast::{Call, GraphDef, Stmt};
use crate::ast::{Arg, LayerDecl};
use crate::check::{check_input, resolve_args, Errors, MAX_VALUES};
use crate::ir::numel;
use crate::layers::{self, int_of, resolve, Site, Spec};
use crate::suggest;

/// The merge kinds, with Keras's names.
pub const MERGES: &[&str] = &[
    "Add",
    "Subtract",
    "Multiply",
    "Average",
    "Maximum",
    "Minimum",
    "Concatenate",
    "Dot",
];

/// A checked functional model.
pub struct Graph<'a> {
    pub def: &'a GraphDef,
    /// Node indices of the inputs, in declaration order.
    pub inputs: Vec<usize>,
    /// Node indices of the outputs, in `outputs(...)` order.
    pub outputs: Vec<usize>,
    /// The nodes, each after its inputs.
    pub nodes: Vec<Node<'a>>,
    /// The layers (struct fields), in declaration order.
    pub fields: Vec<Field>,
}

/// A node: an input, a layer applied to a node, or a merge.
pub struct Node<'a> {
    pub name: &'a Ident,
    pub op: Op,
    /// Indices of the input nodes (in `nodes`).
    pub inputs: Vec<usize>,
    pub shape: Vec<usize>,
    pub len: usize,
}

pub enum Op {
    /// The model's input number `k`.
    Input(usize),
    /// `fields[field]` applied for the `call`-th time (counting from 0).
    Layer {
        field: usize,
        call: usize,
    },
    Merge(Merge),
}

/// A merge and what its kernel needs.
pub enum Merge {
    /// `Add`, `Subtract`, `Multiply`, `Average`, `Maximum`, `Minimum`: the kernel module.
    Elementwise(&'static str),
    /// Per-input chunk lengths (see `kerust::layers::merge::concatenate`), and the axis as
    /// Keras counts it (batch axis 0).
    Concatenate { chunks: Vec<usize>, axis: usize },
    /// `[a0, b0, a1, b1, c]`, the contracted axes as Keras counts them, and `normalize`.
    Dot {
        dims: [usize; 5],
        axes: (usize, usize),
        normalize: bool,
    },
}

impl Merge {
    /// Keras's class name.
    pub fn kind(&self) -> &'static str {
        match self {
            Merge::Elementwise(m) => match *m {
                "add" => "Add",
                "subtract" => "Subtract",
                "multiply" => "Multiply",
                "average" => "Average",
                "maximum" => "Maximum",
                _ => "Minimum",
            },
            Merge::Concatenate { .. } => "Concatenate",
            Merge::Dot { .. } => "Dot",
        }
    }

    /// The call in `model!` syntax, arguments resolved.
    pub fn describe(&self) -> String {
        match self {
            Merge::Elementwise(_) => self.kind().to_string(),
            Merge::Concatenate { axis, .. } => format!("Concatenate(axis = {axis})"),
            Merge::Dot { axes, normalize, .. } => {
                let mut s = format!("Dot(axes = ({}, {})", axes.0, axes.1);
                if *normalize {
                    s += ", normalize = true";
                }
                s + ")"
            }
        }
    }
}

/// A layer: a field of the struct, applied at one or more nodes.
pub struct Field {
    pub name: Ident,
    pub attrs: Vec<Attribute>,
    pub kind: &'static str,
    pub ty: TokenStream,
    pub describe: String,
    /// The input shape (of every call) and the output shape.
    pub input: Vec<usize>,
    pub output: Vec<usize>,
    /// The `Kind(args)` tokens, for spans.
    pub call_tokens: TokenStream,
    /// The nodes that apply it, in application order.
    pub calls: Vec<usize>,
}

/// What a name stands for.
#[derive(Clone, Copy)]
enum Def {
    Input(usize),
    Layer(usize),
    Node(usize),
}

/// A node statement, classified.
enum Pending<'a> {
    /// A layer created by the node (`Dense(10)(h)`), as a declaration named after the node.
    NewLayer(LayerDecl, &'static Spec),
    /// A declared layer (`shared(h)`): the statement index of its declaration.
    Shared(usize),
    Merge(&'static str, &'a [Arg], &'a TokenStream),
    /// Already reported.
    Invalid,
}

/// Each node statement's classification and the statements it refers to.
type Classified<'a> = HashMap<usize, (Pending<'a>, Vec<(usize, &'a Ident)>)>;

/// Checks the graph; on errors, all of them in one `syn::Error`.
pub fn check(def: &GraphDef) -> Result<Graph<'_>, syn::Error> {
    let mut errors = Errors::default();
    let stmts = &def.stmts;

    // Every name is defined once.
    let mut defs: HashMap<String, (Def, &Ident)> = HashMap::new();
    for (i, stmt) in stmts.iter().enumerate() {
        let (def_kind, name) = match stmt {
            Stmt::Input { name, .. } => (Def::Input(i), name),
            Stmt::Layer(l) => (Def::Layer(i), &l.name),
            Stmt::Node { name, .. } => (Def::Node(i), name),
            Stmt::Outputs { .. } => continue,
        };
        let key = name.to_string();
        if let Some((_, first)) = defs.get(&key) {
            errors.spanned(
                name,
                format!("duplicate name `{key}`\nhelp: each node and layer needs its own name (layers become struct fields)"),
            );
            errors.spanned(first, format!("`{key}` is first defined here"));
        } else {
            defs.insert(key, (def_kind, name));
        }
    }

    // Declared layers are of known kinds.
    for stmt in stmts {
        if let Stmt::Layer(decl) = stmt {
            let kind = decl.kind.to_string();
            if Spec::find(&kind).is_none() {
                errors.spanned(
                    &decl.kind,
                    format!(
                        "unknown layer `{kind}`{}\nhelp: the layers are {}",
                        suggest::hint(&kind, layers::kind_names()),
                        layers::list(layers::kind_names())
                    ),
                );
            }
        }
    }

    let input_stmts: Vec<usize> = stmts
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s, Stmt::Input { .. }))
        .map(|(i, _)| i)
        .collect();
    if input_stmts.is_empty() {
        errors.push(syn::Error::new(
            def.body_span,
            "a functional model needs an input node\nhelp: start with `x = Input<784>;` (the shape of one sample)",
        ));
    }
    let outputs_stmts: Vec<(&Ident, &Vec<Ident>)> = stmts
        .iter()
        .filter_map(|s| match s {
            Stmt::Outputs { keyword, names } => Some((keyword, names)),
            _ => None,
        })
        .collect();
    match outputs_stmts.as_slice() {
        [] => errors.push(syn::Error::new(
            def.body_span,
            "a functional model needs `outputs(...)`\nhelp: end with the nodes the model returns, as in `outputs(logits);`",
        )),
        [(_, names)] if names.is_empty() => errors.spanned(
            outputs_stmts[0].0,
            "`outputs()` is empty\nhelp: list the nodes the model returns, as in `outputs(logits)`",
        ),
        [_] => {}
        [_, (second, _), ..] => errors.spanned(
            second,
            "`outputs(...)` is given more than once\nhelp: list every output in one `outputs(a, b)`",
        ),
    }

    let node_names = || {
        defs.iter()
            .filter(|(_, (d, _))| !matches!(d, Def::Layer(_)))
            .map(|(k, _)| k.as_str())
    };
    // A reference to a node: its statement index.
    let lookup = |name: &Ident, errors: &mut Errors, role: &str| -> Option<usize> {
        match defs.get(&name.to_string()) {
            Some((Def::Input(i) | Def::Node(i), _)) => Some(*i),
            Some((Def::Layer(_), _)) => {
                errors.spanned(
                    name,
                    format!(
                        "{role} `{name}` is a layer, not a node\nhelp: apply the layer to a node first, as in `y = {name}(x);`, and use `y`"
                    ),
                );
                None
            }
            None => {
                let names: Vec<&str> = node_names().collect();
                errors.spanned(
                    name,
                    format!(
                        "{role} `{name}` is not defined{}\nhelp: the nodes are {}",
                        suggest::hint(&name.to_string(), names.iter().copied()),
                        sorted_list(&names)
                    ),
                );
                None
            }
        }
    };

    // Classify each node and resolve its references.
    let mut pending: Classified<'_> = HashMap::new();
    for (i, stmt) in stmts.iter().enumerate() {
        let Stmt::Node { attrs, name, call } = stmt else {
            continue;
        };
        let (kind, refs) = classify(name, attrs, call, &defs, &mut errors);
        let mut resolved = Vec::new();
        for r in refs {
            if let Some(target) = lookup(r, &mut errors, "input") {
                resolved.push((target, r));
            }
        }
        pending.insert(i, (kind, resolved));
    }
    let mut outputs = Vec::new();
    if let Some((_, names)) = outputs_stmts.first() {
        for name in names.iter() {
            if let Some(i) = lookup(name, &mut errors, "output") {
                if matches!(stmts[i], Stmt::Input { .. }) {
                    errors.spanned(
                        name,
                        format!("output `{name}` is an input node\nhelp: a model's outputs are computed by its layers"),
                    );
                } else if outputs.contains(&i) {
                    errors.spanned(name, format!("output `{name}` is listed twice"));
                } else {
                    outputs.push(i);
                }
            }
        }
    }

    // Order: depth-first from every node, inputs first; a reference back onto the current
    // path is a cycle.
    let mut order = Vec::new();
    let mut state = vec![0u8; stmts.len()]; // 0 new, 1 on the path, 2 done
    let mut cyclic = false;
    for start in 0..stmts.len() {
        if matches!(stmts[start], Stmt::Input { .. } | Stmt::Node { .. }) {
            visit(
                start,
                &pending,
                &mut state,
                &mut order,
                &mut Vec::new(),
                stmts,
                &mut errors,
                &mut cyclic,
            );
        }
    }

    // Used: every node is an output or the input of another node; every layer is applied.
    let mut used = vec![false; stmts.len()];
    for (kind, refs) in pending.values() {
        for (t, _) in refs {
            used[*t] = true;
        }
        if let Pending::Shared(l) = kind {
            used[*l] = true;
        }
    }
    for &o in &outputs {
        used[o] = true;
    }
    if errors.0.is_empty() {
        for (i, stmt) in stmts.iter().enumerate() {
            if used[i] {
                continue;
            }
            match stmt {
                Stmt::Input { name, .. } => errors.spanned(
                    name,
                    format!("input `{name}` is never used\nhelp: apply a layer to it, or remove it"),
                ),
                Stmt::Node { name, .. } => errors.spanned(
                    name,
                    format!(
                        "node `{name}` is never used: no node takes it as input and it is not in `outputs(...)`\nhelp: list it in `outputs(...)` or remove it (an unused branch would be computed and never trained)"
                    ),
                ),
                Stmt::Layer(l) => errors.spanned(
                    &l.name,
                    format!(
                        "layer `{}` is never applied\nhelp: apply it to a node, as in `y = {}(x);`, or remove it",
                        l.name, l.name
                    ),
                ),
                Stmt::Outputs { .. } => {}
            }
        }
    }
    if cyclic {
        return Err(errors
            .into_result()
            .err()
            .unwrap_or_else(|| syn::Error::new(def.body_span, "cycle")));
    }

    // Shapes, in order.
    let mut index_of = vec![usize::MAX; stmts.len()];
    let mut nodes: Vec<Node> = Vec::new();
    let mut shapes: Vec<Option<Vec<usize>>> = vec![None; stmts.len()];
    let mut fields: Vec<Field> = Vec::new();
    let mut field_of_decl: HashMap<usize, usize> = HashMap::new();
    let mut inputs = vec![usize::MAX; input_stmts.len()];
    // Fields in declaration order: declared layers and layer-creating nodes.
    let mut field_slots: Vec<usize> = Vec::new();
    for (i, stmt) in stmts.iter().enumerate() {
        match stmt {
            Stmt::Layer(_) => field_slots.push(i),
            Stmt::Node { .. } if matches!(pending.get(&i), Some((Pending::NewLayer(..), _))) => {
                field_slots.push(i)
            }
            _ => {}
        }
    }
    let mut resolved_fields: HashMap<usize, Field> = HashMap::new();
    for &i in &order {
        let stmt = &stmts[i];
        let name = stmt.name().expect("ordered statements define names");
        let (op, input_ids, shape): (Option<Op>, Vec<usize>, Option<Vec<usize>>) = match stmt {
            Stmt::Input { decl, .. } => {
                let k = input_stmts.iter().position(|&s| s == i).unwrap_or(0);
                (Some(Op::Input(k)), Vec::new(), check_input(decl, &mut errors))
            }
            Stmt::Node { .. } => {
                let Some((kind, refs)) = pending.get(&i) else {
                    continue;
                };
                let in_shapes: Vec<Option<&[usize]>> =
                    refs.iter().map(|(t, _)| shapes[*t].as_deref()).collect();
                let ids: Vec<usize> = refs.iter().map(|(t, _)| index_of[*t]).collect();
                match kind {
                    Pending::Invalid => (None, ids, None),
                    Pending::NewLayer(decl, spec) => {
                        let (out, field) = apply_new(
                            decl,
                            spec,
                            in_shapes.first().copied().flatten(),
                            refs.first().map(|r| r.1),
                            &mut errors,
                        );
                        if let Some(f) = field {
                            resolved_fields.insert(i, f);
                        }
                        (Some(Op::Layer { field: i, call: 0 }), ids, out)
                    }
                    Pending::Shared(l) => {
                        let Stmt::Layer(decl) = &stmts[*l] else { continue };
                        let input = in_shapes.first().copied().flatten();
                        let out = match resolved_fields.get_mut(l) {
                            None => {
                                let spec = Spec::find(&decl.kind.to_string());
                                match spec {
                                    None => None,
                                    Some(spec) => {
                                        let (out, field) = apply_new(
                                            decl,
                                            spec,
                                            input,
                                            refs.first().map(|r| r.1),
                                            &mut errors,
                                        );
                                        if let Some(f) = field {
                                            resolved_fields.insert(*l, f);
                                        }
                                        out
                                    }
                                }
                            }
                            Some(f) => {
                                let first = shape_of_first(f, &nodes);
                                match input {
                                    Some(shape) if first.as_deref() != Some(shape) => {
                                        errors.spanned(
                                            &call_of(stmt).tokens,
                                            format!(
                                                "shared layer `{}` is applied here to shape {shape:?}, but its weights were made for shape {:?} (its first call)\nhelp: a shared layer takes the same input shape at every call",
                                                decl.name,
                                                first.unwrap_or_default()
                                            ),
                                        );
                                        None
                                    }
                                    _ => Some(f.output.clone()),
                                }
                            }
                        };
                        let call = resolved_fields.get(l).map_or(0, |f| f.calls.len());
                        (Some(Op::Layer { field: *l, call }), ids, out)
                    }
                    Pending::Merge(kind, args, tokens) => {
                        let names: Vec<&Ident> = refs.iter().map(|r| r.1).collect();
                        match merge(kind, args, tokens, &names, &in_shapes, name, &mut errors) {
                            Some((m, out)) => (Some(Op::Merge(m)), ids, Some(out)),
                            None => (None, ids, None),
                        }
                    }
                }
            }
            _ => continue,
        };
        let shape = match shape {
            Some(s) if numel(&s).is_none_or(|n| n > MAX_VALUES) => {
                errors.spanned(
                    name,
                    format!("node `{name}` has shape {s:?}, which has too many values"),
                );
                None
            }
            s => s,
        };
        shapes[i] = shape.clone();
        if let (Some(op), Some(shape)) = (op, shape) {
            if input_ids.contains(&usize::MAX) {
                continue;
            }
            if let Op::Layer { field, .. } = &op {
                if let Some(f) = resolved_fields.get_mut(field) {
                    f.calls.push(nodes.len());
                }
            }
            if let Op::Input(k) = &op {
                inputs[*k] = nodes.len();
            }
            index_of[i] = nodes.len();
            let len = numel(&shape).unwrap_or(0);
            nodes.push(Node {
                name,
                op,
                inputs: input_ids,
                shape,
                len,
            });
        }
    }

    errors.into_result()?;

    // Renumber fields by declaration order.
    for &slot in &field_slots {
        if let Some(f) = resolved_fields.remove(&slot) {
            field_of_decl.insert(slot, fields.len());
            fields.push(f);
        }
    }
    for node in &mut nodes {
        if let Op::Layer { field, .. } = &mut node.op {
            *field = field_of_decl[field];
        }
    }
    let outputs: Vec<usize> = outputs.iter().map(|&o| index_of[o]).collect();
    if inputs.is_empty() || outputs.is_empty() || inputs.iter().chain(&outputs).any(|&i| i >= nodes.len()) {
        // Every way here reports an error first; stay on the safe side regardless.
        return Err(syn::Error::new(
            def.body_span,
            "the model's inputs or outputs could not be resolved",
        ));
    }
    Ok(Graph {
        def,
        inputs,
        outputs,
        nodes,
        fields,
    })
}

/// The input shape of a field's first call.
fn shape_of_first(f: &Field, nodes: &[Node]) -> Option<Vec<usize>> {
    let first = *f.calls.first()?;
    let input = *nodes.get(first)?.inputs.first()?;
    Some(nodes.get(input)?.shape.clone())
}

fn call_of(stmt: &Stmt) -> &Call {
    match stmt {
        Stmt::Node { call, .. } => call,
        _ => unreachable!("only node statements have calls"),
    }
}

/// Resolves a layer at its first call.
fn apply_new(
    decl: &LayerDecl,
    spec: &'static Spec,
    input: Option<&[usize]>,
    prev: Option<&Ident>,
    errors: &mut Errors,
) -> (Option<Vec<usize>>, Option<Field>) {
    let args = resolve_args(decl, spec, errors);
    let site = Site {
        kind: spec.name,
        layer: &decl.name,
        call: &decl.call_tokens,
        prev,
        functional: true,
    };
    let r = resolve(spec.name, &args, input, &site, &mut errors.0);
    let field = match (&r.output, input) {
        (Some(out), Some(input)) => Some(Field {
            input: input.to_vec(),
            name: decl.name.clone(),
            attrs: decl.attrs.clone(),
            kind: spec.name,
            ty: r.ty,
            describe: r.describe,
            output: out.clone(),
            call_tokens: decl.call_tokens.clone(),
            calls: Vec::new(),
        }),
        _ => None,
    };
    (r.output, field)
}

/// Sorts out what a node's call is, and the names it refers to.
fn classify<'a>(
    name: &Ident,
    attrs: &[Attribute],
    call: &'a Call,
    defs: &HashMap<String, (Def, &Ident)>,
    errors: &mut Errors,
) -> (Pending<'a>, Vec<&'a Ident>) {
    let callee = call.callee.to_string();
    let args = call.args.as_slice();
    let positional_idents = |errors: &mut Errors| -> Option<Vec<&'a Ident>> {
        let mut out = Vec::new();
        for a in args.iter().filter(|a| a.key.is_none()) {
            match &a.value {
                Expr::Path(p) if p.path.get_ident().is_some() => out.push(p.path.get_ident()?),
                _ => {
                    errors.spanned(
                        &a.tokens,
                        format!("`{callee}` takes node names, found `{}`", a.tokens),
                    );
                    return None;
                }
            }
        }
        Some(out)
    };
    if callee == "Input" {
        errors.spanned(
            &call.callee,
            format!("write the input's shape in angle brackets: `{name} = Input<784>;`"),
        );
        return (Pending::Invalid, Vec::new());
    }
    if let Some((Def::Layer(l), _)) = defs.get(&callee) {
        if call.applied.is_some() {
            errors.spanned(
                &call.tokens,
                format!("`{callee}` is a declared layer: apply it directly, as in `{name} = {callee}(x);`"),
            );
            return (Pending::Invalid, Vec::new());
        }
        if let Some(kw) = args.iter().find(|a| a.key.is_some()) {
            errors.spanned(
                &kw.tokens,
                format!("layer `{callee}` was declared with its arguments; a call takes node names only"),
            );
            return (Pending::Invalid, Vec::new());
        }
        let Some(refs) = positional_idents(errors) else {
            return (Pending::Invalid, Vec::new());
        };
        if refs.len() != 1 {
            errors.spanned(
                &call.tokens,
                format!("layer `{callee}` takes one input node, found {}", refs.len()),
            );
            return (Pending::Invalid, Vec::new());
        }
        return (Pending::Shared(*l), refs);
    }
    if let Some(&merge) = MERGES.iter().find(|m| **m == callee) {
        let refs = match &call.applied {
            Some(applied) => {
                if let Some(a) = args.iter().find(|a| a.key.is_none()) {
                    errors.spanned(
                        &a.tokens,
                        format!("`{merge}(...)(...)` takes its options by name in the first parentheses and the nodes in the second"),
                    );
                    return (Pending::Invalid, Vec::new());
                }
                applied.iter().collect()
            }
            None => match positional_idents(errors) {
                Some(r) => r,
                None => return (Pending::Invalid, Vec::new()),
            },
        };
        return (Pending::Merge(merge, args, &call.tokens), refs);
    }
    if let Some(spec) = Spec::find(&callee) {
        let Some(applied) = &call.applied else {
            errors.spanned(
                &call.tokens,
                format!(
                    "`{}` makes a layer but applies it to nothing\nhelp: apply it to a node, as in `{name} = {}(x);`, or declare it with `{name}: {};` to apply it later",
                    call.layer_tokens, call.layer_tokens, call.layer_tokens
                ),
            );
            return (Pending::Invalid, Vec::new());
        };
        if applied.len() != 1 {
            errors.spanned(
                &call.applied_tokens,
                format!("layer `{name}` ({callee}) takes one input node, found {}\nhelp: merge several nodes first, as in `Concatenate(a, b)`", applied.len()),
            );
            return (Pending::Invalid, Vec::new());
        }
        let decl = LayerDecl {
            attrs: attrs.to_vec(),
            name: name.clone(),
            kind: call.callee.clone(),
            args: args.to_vec(),
            call_tokens: call.layer_tokens.clone(),
        };
        return (Pending::NewLayer(decl, spec), applied.iter().collect());
    }
    let layer_names: Vec<&str> = defs
        .iter()
        .filter(|(_, (d, _))| matches!(d, Def::Layer(_)))
        .map(|(k, _)| k.as_str())
        .collect();
    let mut candidates: Vec<&str> = layers::kind_names().chain(MERGES.iter().copied()).collect();
    candidates.extend(layer_names.iter().copied());
    errors.spanned(
        &call.callee,
        format!(
            "unknown layer `{callee}`{}\nhelp: the layers are {}; the merges are {}{}",
            suggest::hint(&callee, candidates.iter().copied()),
            layers::list(layers::kind_names()),
            layers::list(MERGES.iter().copied()),
            if layer_names.is_empty() {
                String::new()
            } else {
                format!("; the declared layers are {}", sorted_list(&layer_names))
            }
        ),
    );
    (Pending::Invalid, Vec::new())
}

fn sorted_list(names: &[&str]) -> String {
    let mut v: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    v.sort();
    v.join(", ")
}

#[allow(clippy::too_many_arguments)]
fn visit(
    i: usize,
    pending: &Classified<'_>,
    state: &mut [u8],
    order: &mut Vec<usize>,
    path: &mut Vec<usize>,
    stmts: &[Stmt],
    errors: &mut Errors,
    cyclic: &mut bool,
) {
    if state[i] == 2 {
        return;
    }
    state[i] = 1;
    path.push(i);
    if let Some((_, refs)) = pending.get(&i) {
        for &(t, r) in refs {
            match state[t] {
                1 => {
                    *cyclic = true;
                    let from = path.iter().position(|&p| p == t).unwrap_or(0);
                    let mut names: Vec<String> = path[from..]
                        .iter()
                        .filter_map(|&p| stmts[p].name().map(|n| format!("`{n}`")))
                        .collect();
                    names.push(format!("`{r}`"));
                    errors.spanned(
                        r,
                        format!(
                            "cycle: {} — a node cannot depend on itself\nhelp: a model is a directed acyclic graph; each node may only use nodes that do not use it",
                            names.join(" → ")
                        ),
                    );
                }
                0 => visit(t, pending, state, order, path, stmts, errors, cyclic),
                _ => {}
            }
        }
    }
    path.pop();
    state[i] = 2;
    order.push(i);
}

/// Checks a merge's inputs and options with Keras's rules; its kernel data and output shape.
#[allow(clippy::too_many_arguments)]
fn merge(
    kind: &'static str,
    args: &[Arg],
    tokens: &TokenStream,
    names: &[&Ident],
    shapes: &[Option<&[usize]>],
    node: &Ident,
    errors: &mut Errors,
) -> Option<(Merge, Vec<usize>)> {
    let options: Vec<&Arg> = args.iter().filter(|a| a.key.is_some()).collect();
    let allowed: &[&str] = match kind {
        "Concatenate" => &["axis"],
        "Dot" => &["axes", "normalize"],
        _ => &[],
    };
    let mut ok = true;
    for o in &options {
        let key = o.key.as_ref().map(ToString::to_string).unwrap_or_default();
        if !allowed.contains(&key.as_str()) {
            ok = false;
            let takes = if allowed.is_empty() {
                format!("`{kind}` takes no options")
            } else {
                format!("`{kind}` takes {}", layers::list_code(allowed.iter().copied()))
            };
            errors.spanned(
                &o.tokens,
                format!("node `{node}`: `{kind}` has no option `{key}`\nhelp: {takes}"),
            );
        }
    }
    let option = |key: &str| {
        options
            .iter()
            .find(|o| o.key.as_ref().is_some_and(|k| k == key))
            .copied()
    };
    let (min, max) = match kind {
        "Subtract" | "Dot" => (2, 2),
        _ => (2, usize::MAX),
    };
    if names.len() < min || names.len() > max {
        let want = if min == max {
            format!("exactly {min}")
        } else {
            format!("at least {min}")
        };
        errors.spanned(
            tokens,
            format!(
                "node `{node}`: `{kind}` merges {want} nodes, found {}",
                names.len()
            ),
        );
        return None;
    }
    if !ok {
        return None;
    }
    let shapes: Vec<&[usize]> = shapes.iter().copied().collect::<Option<_>>()?;
    let describe = |s: &[usize]| format!("{s:?}");
    match kind {
        "Concatenate" => {
            let rank = shapes[0].len();
            let axis = match option("axis") {
                None => -1,
                Some(a) => match int_of(&a.value) {
                    Some(v) => v,
                    None => {
                        errors.spanned(
                            &a.value,
                            format!(
                                "node `{node}`: `axis` must be an integer such as `-1`, found `{}`",
                                a.value.to_token_stream()
                            ),
                        );
                        return None;
                    }
                },
            };
            let full = rank as i64 + 1;
            let a = if axis < 0 { axis + full } else { axis };
            if a < 1 || a >= full {
                let span = option("axis").map_or_else(|| tokens.clone(), |o| o.tokens.clone());
                errors.spanned(
                    span,
                    format!(
                        "node `{node}`: axis {axis} is out of range for inputs of shape {} (rank {rank} per sample)\nhelp: Keras counts the batch axis as 0: the axes are 1..={rank}, or -{rank}..=-1",
                        describe(shapes[0])
                    ),
                );
                return None;
            }
            let a = a as usize - 1;
            for (n, s) in names.iter().zip(&shapes).skip(1) {
                let matches = s.len() == rank
                    && s.iter()
                        .zip(shapes[0])
                        .enumerate()
                        .all(|(d, (x, y))| d == a || x == y);
                if !matches {
                    errors.spanned(
                        n,
                        format!(
                            "node `{node}`: `Concatenate` along axis {} needs the same shape on every other axis, but `{}` has shape {} and `{n}` has shape {}",
                            a + 1,
                            names[0],
                            describe(shapes[0]),
                            describe(s)
                        ),
                    );
                    return None;
                }
            }
            let inner: usize = shapes[0][a + 1..].iter().product();
            let chunks = shapes.iter().map(|s| s[a] * inner).collect();
            let mut out = shapes[0].to_vec();
            out[a] = shapes.iter().map(|s| s[a]).sum();
            Some((Merge::Concatenate { chunks, axis: a + 1 }, out))
        }
        "Dot" => {
            let Some(axes) = option("axes") else {
                errors.spanned(tokens, format!("node `{node}`: `Dot` is missing its `axes` argument\nhelp: as in `Dot(a, b, axes = 1)` (Keras counts the batch axis as 0)"));
                return None;
            };
            let parsed: Option<(i64, i64)> = match &axes.value {
                Expr::Tuple(t) if t.elems.len() == 2 => int_of(&t.elems[0]).zip(int_of(&t.elems[1])),
                e => int_of(e).map(|v| (v, v)),
            };
            let Some((x0, x1)) = parsed else {
                errors.spanned(&axes.value, format!("node `{node}`: `axes` must be an integer or a pair of integers such as `1` or `(1, 2)`, found `{}`", axes.value.to_token_stream()));
                return None;
            };
            let normalize = match option("normalize") {
                None => false,
                Some(o) => match &o.value {
                    Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Bool(b),
                        ..
                    }) => b.value,
                    v => {
                        errors.spanned(
                            v,
                            format!(
                                "node `{node}`: `normalize` must be `true` or `false`, found `{}`",
                                v.to_token_stream()
                            ),
                        );
                        return None;
                    }
                },
            };
            let mut resolved = [0usize; 2];
            for (k, (&ax, s)) in [x0, x1].iter().zip(&shapes).enumerate() {
                let full = s.len() as i64 + 1;
                let a = if ax < 0 { ax + full } else { ax };
                if a < 1 || a >= full {
                    errors.spanned(
                        &axes.tokens,
                        format!(
                            "node `{node}`: axis {ax} is out of range for `{}` of shape {} (rank {} per sample)\nhelp: Keras counts the batch axis as 0: the axes are 1..={}",
                            names[k],
                            describe(s),
                            s.len(),
                            s.len()
                        ),
                    );
                    return None;
                }
                resolved[k] = a as usize;
            }
            let (a0, a1) = (resolved[0] - 1, resolved[1] - 1);
            if shapes[0][a0] != shapes[1][a1] {
                errors.spanned(
                    &axes.tokens,
                    format!(
                        "node `{node}`: `Dot` contracts axis {} of `{}` (size {}) with axis {} of `{}` (size {}); the sizes must be equal\nhelp: the shapes are {} and {}",
                        a0 + 1,
                        names[0],
                        shapes[0][a0],
                        a1 + 1,
                        names[1],
                        shapes[1][a1],
                        describe(shapes[0]),
                        describe(shapes[1])
                    ),
                );
                return None;
            }
            let prod = |s: &[usize]| s.iter().product::<usize>();
            let dims = [
                prod(&shapes[0][..a0]),
                prod(&shapes[0][a0 + 1..]),
                prod(&shapes[1][..a1]),
                prod(&shapes[1][a1 + 1..]),
                shapes[0][a0],
            ];
            let mut out: Vec<usize> = shapes[0]
                .iter()
                .enumerate()
                .filter(|(d, _)| *d != a0)
                .map(|(_, &v)| v)
                .collect();
            out.extend(
                shapes[1]
                    .iter()
                    .enumerate()
                    .filter(|(d, _)| *d != a1)
                    .map(|(_, &v)| v),
            );
            if out.is_empty() {
                out.push(1);
            }
            Some((
                Merge::Dot {
                    dims,
                    axes: (resolved[0], resolved[1]),
                    normalize,
                },
                out,
            ))
        }
        _ => {
            for (n, s) in names.iter().zip(&shapes).skip(1) {
                if *s != shapes[0] {
                    errors.spanned(
                        n,
                        format!(
                            "node `{node}`: `{kind}` needs inputs of one shape, but `{}` has shape {} and `{n}` has shape {}\nhelp: kerust does not broadcast in merges; make the shapes equal (e.g. with a Dense or a 1x1 Conv2D projection)",
                            names[0],
                            describe(shapes[0]),
                            describe(s)
                        ),
                    );
                    return None;
                }
            }
            let module = match kind {
                "Add" => "add",
                "Subtract" => "subtract",
                "Multiply" => "multiply",
                "Average" => "average",
                "Maximum" => "maximum",
                _ => "minimum",
            };
            Some((Merge::Elementwise(module), shapes[0].to_vec()))
        }
    }
}
