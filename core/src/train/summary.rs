//! Keras-style model summaries.

use std::format;
use std::string::{String, ToString};
use std::vec;
use std::vec::Vec;

use crate::Model;

/// `1234567` → `1,234,567`, as Keras's summaries write counts.
///
/// ```
/// assert_eq!(kerust::train::thousands(1234567), "1,234,567");
/// ```
pub fn thousands(n: usize) -> String {
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

/// `[28, 28, 1]` → `(None, 28, 28, 1)`: a per-sample shape with Keras's batch dimension.
///
/// ```
/// assert_eq!(kerust::train::batch_shape(&[28, 28, 1]), "(None, 28, 28, 1)");
/// ```
pub fn batch_shape(dims: &[usize]) -> String {
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
    // A functional model (its inputs are rows of their own) gets Keras's fourth column.
    let functional = M::LAYERS.iter().any(|l| !l.connected_to.is_empty());
    let widths: &[usize] = if functional {
        &[19, 17, 10, 17]
    } else {
        &[31, 24, 13]
    };
    let mut s = format!("Model: \"{}\"\n", M::NAME);
    let rule = |l: &str, m: &str, r: &str, h: &str| {
        let cells: Vec<String> = widths.iter().map(|w| h.repeat(w + 2)).collect();
        format!("{l}{}{r}\n", cells.join(m))
    };
    // One table row; a cell with several lines (`Connected to`) makes several lines.
    let row = |cells: &[Vec<String>], bar: &str| -> String {
        let height = cells.iter().map(Vec::len).max().unwrap_or(1);
        let mut out = String::new();
        for line in 0..height {
            out += bar;
            for (c, (cell, &w)) in cells.iter().zip(widths).enumerate() {
                let text = cell.get(line).map_or("", String::as_str);
                // `Param #` is right-aligned, the rest left-aligned.
                if c == 2 {
                    out += &format!(" {text:>w$} {bar}");
                } else {
                    out += &format!(" {text:<w$} {bar}");
                }
            }
            out += "\n";
        }
        out
    };
    let mut header = vec![
        vec!["Layer (type)".to_string()],
        vec!["Output Shape".to_string()],
        vec!["Param #".to_string()],
    ];
    if functional {
        header.push(vec!["Connected to".to_string()]);
    }
    s += &rule("┏", "┳", "┓", "━");
    s += &row(&header, "┃");
    s += &rule("┡", "╇", "┩", "━");
    for (i, l) in M::LAYERS.iter().enumerate() {
        if i > 0 {
            s += &rule("├", "┼", "┤", "─");
        }
        let mut cells = vec![
            vec![format!("{} ({})", l.name, l.kind)],
            vec![batch_shape(l.output_shape)],
            vec![thousands(l.params)],
        ];
        if functional {
            let n = l.connected_to.len();
            cells.push(if n == 0 {
                vec!["-".to_string()]
            } else {
                l.connected_to
                    .iter()
                    .enumerate()
                    .map(|(k, c)| if k + 1 < n { format!("{c},") } else { c.to_string() })
                    .collect()
            });
        }
        s += &row(&cells, "│");
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
        assert_eq!(batch_shape(&[28, 28, 1]), "(None, 28, 28, 1)");
    }
}
