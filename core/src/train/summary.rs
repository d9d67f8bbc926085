//! Keras-style model summaries.

use std::format;
use std::string::{String, ToString};

use crate::Model;

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn bytes(n: usize) -> String {
    let b = n as f64 * 4.0;
    if b >= 1024.0 * 1024.0 {
        format!("{:.2} MB", b / (1024.0 * 1024.0))
    } else if b >= 1024.0 {
        format!("{:.2} KB", b / 1024.0)
    } else {
        format!("{b:.2} B")
    }
}

fn shape(dims: &[usize]) -> String {
    let mut s = String::from("(None");
    for d in dims {
        s += &format!(", {d}");
    }
    s + ")"
}

/// The summary table of model `M`, as Keras's `model.summary()` prints it.
///
/// ```
/// use kerust::prelude::*;
/// model! { struct Net: Input<4> { out: Dense(2) } }
/// let s = kerust::train::summary_string::<Net>();
/// assert!(s.contains("out (Dense)"));
/// assert!(s.contains("Total params: 10"));
/// ```
pub fn summary_string<M: Model>() -> String {
    let (w0, w1, w2) = (31, 24, 13);
    let mut s = format!("Model: \"{}\"\n", M::NAME);
    let rule = |l: &str, m: &str, r: &str, h: &str| {
        format!(
            "{l}{}{m}{}{m}{}{r}\n",
            h.repeat(w0 + 2),
            h.repeat(w1 + 2),
            h.repeat(w2 + 2)
        )
    };
    s += &rule("┏", "┳", "┓", "━");
    s += &format!(
        "┃ {:<w0$} ┃ {:<w1$} ┃ {:>w2$} ┃\n",
        "Layer (type)", "Output Shape", "Param #"
    );
    s += &rule("┡", "╇", "┩", "━");
    for (i, l) in M::LAYERS.iter().enumerate() {
        if i > 0 {
            s += &rule("├", "┼", "┤", "─");
        }
        let name = format!("{} ({})", l.name, l.kind);
        s += &format!(
            "│ {:<w0$} │ {:<w1$} │ {:>w2$} │\n",
            name,
            shape(l.output_shape),
            thousands(l.params)
        );
    }
    s += &rule("└", "┴", "┘", "─");
    let total = M::COUNT;
    let frozen: usize = M::NON_TRAINABLE.iter().map(|r| r.1).sum();
    s += &format!(" Total params: {} ({})\n", thousands(total), bytes(total));
    s += &format!(
        " Trainable params: {} ({})\n",
        thousands(total - frozen),
        bytes(total - frozen)
    );
    s += &format!(
        " Non-trainable params: {} ({})\n",
        thousands(frozen),
        bytes(frozen)
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_formats() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(bytes(9610), "37.54 KB");
        assert_eq!(shape(&[28, 28, 1]), "(None, 28, 28, 1)");
    }
}
