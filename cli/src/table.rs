//! Keras-style summary tables.

pub use kerust_core::train::{batch_shape, thousands};

/// `[3, 3, 1, 8]` → `(3, 3, 1, 8)`; `[8]` → `(8,)`.
pub fn shape(dims: &[usize]) -> String {
    match dims {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            dims.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A table with a header row, columns right-aligned where `right[i]`, boxed as Keras's
/// `model.summary()` prints.
pub fn render(title: &str, header: &[&str], right: &[bool], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let rule = |l: &str, m: &str, r: &str, h: &str| {
        let cells: Vec<String> = widths.iter().map(|w| h.repeat(w + 2)).collect();
        format!("{l}{}{r}\n", cells.join(m))
    };
    let line = |cells: &[String], bar: &str| {
        let cells: Vec<String> = cells
            .iter()
            .zip(&widths)
            .zip(right)
            .map(|((c, &w), &r)| {
                if r {
                    format!(" {c:>w$} ")
                } else {
                    format!(" {c:<w$} ")
                }
            })
            .collect();
        format!("{bar}{}{bar}\n", cells.join(bar))
    };
    let mut s = format!("{title}\n");
    s += &rule("┏", "┳", "┓", "━");
    let head: Vec<String> = header.iter().map(ToString::to_string).collect();
    s += &line(&head, "┃");
    s += &rule("┡", "╇", "┩", "━");
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            s += &rule("├", "┼", "┤", "─");
        }
        s += &line(row, "│");
    }
    s += &rule("└", "┴", "┘", "─");
    s
}

/// The number of values of a tensor of this shape (saturating: the shape may come from a
/// damaged file, and the count is only printed).
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().fold(1usize, |a, &d| a.saturating_mul(d))
}

/// A table of tensors, one row `(name, dtype, shape)` each, under the column headers
/// `name_header`, `Dtype`, `Shape` and `Values`, followed by the number of tensors and the
/// number of values.
pub fn tensors(title: &str, name_header: &str, tensors: &[(String, String, &[usize])]) -> String {
    let mut total = 0usize;
    let rows: Vec<Vec<String>> = tensors
        .iter()
        .map(|(name, dtype, shape)| {
            total = total.saturating_add(numel(shape));
            vec![
                name.clone(),
                dtype.clone(),
                self::shape(shape),
                thousands(numel(shape)),
            ]
        })
        .collect();
    let mut s = render(
        title,
        &[name_header, "Dtype", "Shape", "Values"],
        &[false, false, false, true],
        &rows,
    );
    s += &format!(" Tensors: {}\n", tensors.len());
    s += &format!(" Total params: {}\n", thousands(total));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!(batch_shape(&[28, 1]), "(None, 28, 1)");
        assert_eq!(shape(&[8]), "(8,)");
        assert_eq!(shape(&[3, 3]), "(3, 3)");
        let t = render(
            "T",
            &["a", "b"],
            &[false, true],
            &[vec!["xyz".into(), "1".into()]],
        );
        assert!(t.contains("│ xyz │ 1 │"), "{t}");
    }
}
