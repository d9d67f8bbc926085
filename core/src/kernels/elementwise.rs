//! Row-wise and element-wise helpers.

/// Adds `bias` (length `n`) to every row of the row-major `y` (`rows × n`).
pub fn add_row_bias(y: &mut [f32], bias: &[f32]) {
    let n = bias.len();
    if n == 0 {
        return;
    }
    for row in y.chunks_exact_mut(n) {
        for (v, b) in row.iter_mut().zip(bias) {
            *v += b;
        }
    }
}

/// Adds the column sums of the row-major `dy` (`rows × n`) to `db` (length `n`).
pub fn accumulate_column_sums(db: &mut [f32], dy: &[f32]) {
    let n = db.len();
    if n == 0 {
        return;
    }
    for row in dy.chunks_exact(n) {
        for (g, d) in db.iter_mut().zip(row) {
            *g += d;
        }
    }
}

/// `y += alpha * x`.
pub fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    for (yv, xv) in y.iter_mut().zip(x) {
        *yv += alpha * xv;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bias_and_column_sums() {
        let mut y = [1.0, 2.0, 3.0, 4.0];
        add_row_bias(&mut y, &[10.0, 20.0]);
        assert_eq!(y, [11.0, 22.0, 13.0, 24.0]);
        let mut db = [1.0, 1.0];
        accumulate_column_sums(&mut db, &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(db, [5.0, 7.0]);
        let mut z = [1.0, 1.0];
        axpy(2.0, &[1.0, 3.0], &mut z);
        assert_eq!(z, [3.0, 7.0]);
    }
}
