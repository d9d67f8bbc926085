//! The UCI "Optical Recognition of Handwritten Digits" dataset (8×8 images, 10 classes).
//!
//! Data: E. Alpaydin and C. Kaynak, *Optical Recognition of Handwritten Digits*, UCI Machine
//! Learning Repository, 1998, <https://doi.org/10.24432/C50P49>, licensed under
//! [CC BY 4.0](https://creativecommons.org/licenses/by/4.0/). The bundled file is the copy
//! distributed with scikit-learn (`sklearn/datasets/data/digits.csv.gz`), unmodified.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use std::io::Read;

use flate2::read::GzDecoder;

use crate::data::{Dataset, Target};
use crate::{Error, Result, Rng};

/// The gzip-compressed CSV file, embedded at compile time.
static DIGITS_CSV_GZ: &[u8] = include_bytes!("../../data/digits.csv.gz");

/// Rows in the bundled file.
const ROWS: usize = 1797;
/// Pixels per image (8×8).
const PIXELS: usize = 64;
/// Largest pixel value: the number of set pixels in a 4×4 block.
const MAX_PIXEL: u32 = 16;
/// Number of classes (digits 0..=9).
const CLASSES: u32 = 10;
/// Samples in the training part of [`digits`]; the remaining 360 form the test part.
const TRAIN: usize = 1437;
/// Seed of the shuffle that splits [`digits`] into train and test.
const SPLIT_SEED: u64 = 0;

/// The handwritten digits dataset, split into `(train, test)`: 1,437 and 360 samples.
///
/// 8×8 grey-scale images of handwritten digits with their labels 0–9 as
/// [`Target::Classes`]. Each sample has shape `[64]`: the 8 rows of the image one after
/// another (row-major), each pixel scaled from its original range 0..=16 to `[0, 1]`
/// (divided by 16). Declare the model input as `Input<64>`; since the data is row-major,
/// setting `sample_shape = vec![8, 8]` on the returned datasets gives the image layout for
/// `Input<8, 8>`.
///
/// The split is fixed and the same on every call and platform: the indices of the 1,797
/// samples of [`digits_full`] are shuffled with `Rng::new(0)`; the first 1,437 shuffled
/// indices form the training set and the last 360 the test set. The two sets share no
/// sample.
///
/// # Data source and licence
///
/// E. Alpaydin and C. Kaynak (1998), *Optical Recognition of Handwritten Digits* [Dataset],
/// UCI Machine Learning Repository, <https://doi.org/10.24432/C50P49>. Licensed under
/// [Creative Commons Attribution 4.0 International (CC BY 4.0)](https://creativecommons.org/licenses/by/4.0/).
/// These 1,797 samples are the test partition of the UCI data, written by 13 people, in
/// the copy distributed with scikit-learn; kerust scales the pixels and splits the samples
/// as described above. Credit the dataset this way when you publish results or
/// redistribute the data; see `core/data/README.md` in the `kerust-core` package.
///
/// # Errors
///
/// [`Error::Format`] if the embedded file cannot be decompressed or parsed. This does not
/// happen with an unmodified build.
///
/// ```
/// let (train, test) = kerust_core::datasets::digits()?;
/// assert_eq!((train.len(), test.len()), (1437, 360));
/// assert_eq!(train.sample_shape, [64]);
/// # Ok::<(), kerust_core::Error>(())
/// ```
pub fn digits() -> Result<(Dataset, Dataset)> {
    let full = digits_full()?;
    let (train, test) = split_indices();
    Ok((full.select(&train), full.select(&test)))
}

/// All 1,797 samples of the handwritten digits dataset, in file order.
///
/// Same encoding as [`digits`]: sample shape `[64]` (the 8×8 image, row-major), pixels
/// scaled to `[0, 1]`, labels 0–9 as [`Target::Classes`]. The classes hold 178, 182, 177,
/// 183, 181, 182, 181, 179, 174 and 180 samples (digits 0 to 9). Use this to make your own
/// split or cross-validation folds.
///
/// # Data source and licence
///
/// E. Alpaydin and C. Kaynak (1998), *Optical Recognition of Handwritten Digits* [Dataset],
/// UCI Machine Learning Repository, <https://doi.org/10.24432/C50P49>. Licensed under
/// [Creative Commons Attribution 4.0 International (CC BY 4.0)](https://creativecommons.org/licenses/by/4.0/).
/// These are the test partition of the UCI data, in the copy distributed with
/// scikit-learn; kerust scales the pixels by 1/16. Credit the dataset this way when you
/// publish results or redistribute the data; see `core/data/README.md` in the
/// `kerust-core` package.
///
/// # Errors
///
/// [`Error::Format`] if the embedded file cannot be decompressed or parsed. This does not
/// happen with an unmodified build.
///
/// ```
/// let all = kerust_core::datasets::digits_full()?;
/// assert_eq!(all.len(), 1797);
/// assert!(all.x.iter().all(|v| (0.0..=1.0).contains(v)));
/// # Ok::<(), kerust_core::Error>(())
/// ```
pub fn digits_full() -> Result<Dataset> {
    let csv = gunzip(DIGITS_CSV_GZ)?;
    let (pixels, labels) = parse_csv(&csv, ROWS)?;
    let x = pixels
        .into_iter()
        .map(|p| f32::from(p) / MAX_PIXEL as f32)
        .collect();
    Dataset::new(x, &[PIXELS], Target::Classes(labels))
}

/// The sample indices of the training and the test part of [`digits`].
fn split_indices() -> (Vec<usize>, Vec<usize>) {
    let mut idx: Vec<usize> = (0..ROWS).collect();
    Rng::new(SPLIT_SEED).shuffle(&mut idx);
    let test = idx.split_off(TRAIN);
    (idx, test)
}

/// Decompresses a gzip stream.
fn gunzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|e| Error::Format {
            format: "gzip",
            reason: format!("cannot decompress the digits data: {e}"),
        })?;
    Ok(out)
}

/// A CSV error at 1-based line `line`.
fn csv_error(line: usize, reason: impl core::fmt::Display) -> Error {
    Error::Format {
        format: "CSV",
        reason: format!("line {line}: {reason}"),
    }
}

/// Shows a field in an error message, shortened and with invalid UTF-8 replaced.
fn show(field: &[u8]) -> String {
    const MAX: usize = 20;
    let text = String::from_utf8_lossy(&field[..field.len().min(MAX)]);
    if field.len() > MAX {
        format!("`{text}...`")
    } else {
        format!("`{text}`")
    }
}

/// A field of ASCII digits as an integer; `None` for anything else (empty, signs, spaces,
/// decimal points) and for values that overflow `u32`.
fn parse_uint(field: &[u8]) -> Option<u32> {
    if field.is_empty() {
        return None;
    }
    field.iter().try_fold(0u32, |acc, &b| {
        if b.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u32::from(b - b'0'))
        } else {
            None
        }
    })
}

/// Parses the digits CSV strictly: exactly `rows` lines (one final `\n` is allowed, `\r\n`
/// line ends too), each of 64 pixels in 0..=16 then a label in 0..=9, all plain decimal
/// integers. Returns the pixels, row after row, and the labels.
fn parse_csv(text: &[u8], rows: usize) -> Result<(Vec<u8>, Vec<u32>)> {
    let body = text.strip_suffix(b"\n").unwrap_or(text);
    if body.is_empty() {
        return Err(Error::Format {
            format: "CSV",
            reason: format!("no rows, expected {rows}"),
        });
    }
    let mut pixels = Vec::with_capacity(rows * PIXELS);
    let mut labels = Vec::with_capacity(rows);
    for (i, line) in body.split(|&b| b == b'\n').enumerate() {
        let n = i + 1;
        if n > rows {
            return Err(csv_error(n, format!("more rows than the {rows} expected")));
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let fields = line.split(|&b| b == b',').count();
        if fields != PIXELS + 1 {
            return Err(csv_error(
                n,
                format!(
                    "expected {} fields (64 pixels and a label), found {fields}",
                    PIXELS + 1
                ),
            ));
        }
        for (j, field) in line.split(|&b| b == b',').enumerate() {
            let column = j + 1;
            let value = parse_uint(field).ok_or_else(|| {
                csv_error(
                    n,
                    format!("field {column}: {} is not a non-negative integer", show(field)),
                )
            })?;
            if j < PIXELS {
                if value > MAX_PIXEL {
                    return Err(csv_error(
                        n,
                        format!("field {column}: pixel value {value} is outside 0..={MAX_PIXEL}"),
                    ));
                }
                pixels.push(value as u8);
            } else {
                if value >= CLASSES {
                    return Err(csv_error(
                        n,
                        format!("field {column}: label {value} is not a digit 0..={}", CLASSES - 1),
                    ));
                }
                labels.push(value);
            }
        }
    }
    if labels.len() != rows {
        return Err(Error::Format {
            format: "CSV",
            reason: format!("expected {rows} rows, found {}", labels.len()),
        });
    }
    Ok((pixels, labels))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    /// The class counts that the UCI description gives for this (testing) partition.
    const CLASS_COUNTS: [usize; 10] = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180];

    fn class_counts(y: &Target) -> [usize; 10] {
        let Target::Classes(labels) = y else {
            panic!("expected class targets")
        };
        let mut counts = [0; 10];
        for &l in labels {
            counts[l as usize] += 1;
        }
        counts
    }

    /// A valid row with every pixel `pixel` and the given label.
    fn row(pixel: u32, label: u32) -> String {
        let mut s = String::new();
        for _ in 0..PIXELS {
            s.push_str(&pixel.to_string());
            s.push(',');
        }
        s.push_str(&label.to_string());
        s
    }

    /// Asserts a CSV format error whose reason contains `needle`.
    fn assert_csv_err(text: &[u8], rows: usize, needle: &str) {
        match parse_csv(text, rows) {
            Err(Error::Format {
                format: "CSV",
                reason,
            }) => {
                assert!(reason.contains(needle), "reason {reason:?} lacks {needle:?}");
            }
            other => panic!("expected a CSV format error containing {needle:?}, got {other:?}"),
        }
    }

    #[test]
    fn bundled_file_parses_with_expected_counts_and_ranges() {
        let csv = gunzip(DIGITS_CSV_GZ).unwrap();
        let (pixels, labels) = parse_csv(&csv, ROWS).unwrap();
        assert_eq!(labels.len(), 1797);
        assert_eq!(pixels.len(), 1797 * 64);
        assert_eq!(pixels.iter().min(), Some(&0));
        assert_eq!(pixels.iter().max(), Some(&16));
        assert_eq!(class_counts(&Target::Classes(labels.clone())), CLASS_COUNTS);
        assert_eq!(CLASS_COUNTS.iter().sum::<usize>(), 1797);
        // First row of the file: 0,0,5,13,9,1,0,0,... label 0.
        assert_eq!(&pixels[..8], &[0, 0, 5, 13, 9, 1, 0, 0]);
        assert_eq!(labels[..3], [0, 1, 2]);
    }

    #[test]
    fn full_dataset_is_scaled_and_shaped() {
        let ds = digits_full().unwrap();
        assert_eq!(ds.len(), 1797);
        assert_eq!(ds.sample_shape, vec![64]);
        assert_eq!(ds.x.len(), 1797 * 64);
        assert!(ds.x.iter().all(|v| (0.0..=1.0).contains(v)));
        assert!(ds.x.contains(&0.0) && ds.x.contains(&1.0));
        // Every value is a multiple of 1/16, exactly.
        assert!(ds.x.iter().all(|v| (v * 16.0).fract() == 0.0));
        assert_eq!(&ds.x[..4], &[0.0, 0.0, 5.0 / 16.0, 13.0 / 16.0]);
        assert_eq!(class_counts(&ds.y), CLASS_COUNTS);
    }

    #[test]
    fn split_sizes_determinism_and_disjointness() {
        let (train, test) = digits().unwrap();
        assert_eq!(train.len(), 1437);
        assert_eq!(test.len(), 360);
        assert_eq!(train.sample_shape, vec![64]);
        assert_eq!(test.sample_shape, vec![64]);

        let (train2, test2) = digits().unwrap();
        assert_eq!(train, train2);
        assert_eq!(test, test2);

        let (ti, vi) = split_indices();
        assert_eq!((ti.len(), vi.len()), (1437, 360));
        let mut all: Vec<usize> = ti.iter().chain(&vi).copied().collect();
        all.sort_unstable();
        assert_eq!(
            all,
            (0..ROWS).collect::<Vec<_>>(),
            "train and test must partition the samples"
        );
        assert_ne!(
            ti[..10],
            (0..10).collect::<Vec<_>>()[..],
            "the split must be shuffled"
        );

        let full = digits_full().unwrap();
        assert_eq!(train, full.select(&ti));
        assert_eq!(test, full.select(&vi));

        let (a, b) = (class_counts(&train.y), class_counts(&test.y));
        for c in 0..10 {
            assert_eq!(a[c] + b[c], CLASS_COUNTS[c]);
            assert!(b[c] > 0, "class {c} missing from the test set");
        }
        let sum = |ds: &Dataset| ds.x.iter().map(|&v| f64::from(v)).sum::<f64>();
        assert_eq!(sum(&train) + sum(&test), sum(&full));
    }

    #[test]
    fn valid_small_input_parses() {
        let text = format!("{}\r\n{}\n", row(16, 9), row(0, 0));
        let (pixels, labels) = parse_csv(text.as_bytes(), 2).unwrap();
        assert_eq!(labels, vec![9, 0]);
        assert_eq!(pixels.len(), 128);
        assert!(pixels[..64].iter().all(|&p| p == 16) && pixels[64..].iter().all(|&p| p == 0));
        // Without a final newline as well.
        let text = format!("{}\n{}", row(1, 1), row(2, 2));
        assert!(parse_csv(text.as_bytes(), 2).is_ok());
    }

    #[test]
    fn corrupt_inputs_are_errors() {
        let good = row(3, 4);

        // Empty input and blank content.
        assert_csv_err(b"", 1, "no rows");
        assert_csv_err(b"\n", 1, "no rows");

        // Wrong field counts.
        let short = good.rsplit_once(',').unwrap().0;
        assert_csv_err(
            format!("{good}\n{short}\n").as_bytes(),
            2,
            "line 2: expected 65 fields",
        );
        assert_csv_err(
            format!("{good},1\n").as_bytes(),
            1,
            "line 1: expected 65 fields (64 pixels and a label), found 66",
        );
        assert_csv_err(
            format!("{good}\n\n{good}\n").as_bytes(),
            3,
            "line 2: expected 65 fields",
        );
        assert_csv_err(format!("{good},\n").as_bytes(), 1, "found 66");

        // Out-of-range values.
        let pixel17 = format!("17{}", &good[1..]);
        assert_csv_err(
            format!("{good}\n{pixel17}\n").as_bytes(),
            2,
            "line 2: field 1: pixel value 17",
        );
        assert_csv_err(row(99_999_999, 1).as_bytes(), 1, "pixel value 99999999");
        assert_csv_err(row(16, 10).as_bytes(), 1, "line 1: field 65: label 10");

        // Non-numeric fields.
        for bad in [
            "a",
            "",
            " 1",
            "1 ",
            "+1",
            "-1",
            "1.0",
            "0x1",
            "99999999999",
            "\u{e9}",
        ] {
            let text = format!("{bad}{}", &good[1..]);
            assert_csv_err(text.as_bytes(), 1, "field 1");
            assert_csv_err(text.as_bytes(), 1, "is not a non-negative integer");
        }
        let bad_label = format!("{}x", &good[..good.len() - 1]);
        assert_csv_err(
            bad_label.as_bytes(),
            1,
            "field 65: `x` is not a non-negative integer",
        );
        let mut invalid_utf8 = good.clone().into_bytes();
        invalid_utf8[0] = 0xff;
        assert_csv_err(&invalid_utf8, 1, "field 1");

        // Too few and too many rows.
        assert_csv_err(
            format!("{good}\n{good}\n").as_bytes(),
            3,
            "expected 3 rows, found 2",
        );
        assert_csv_err(
            format!("{good}\n{good}\n{good}\n").as_bytes(),
            2,
            "line 3: more rows than the 2 expected",
        );
    }

    #[test]
    fn corrupted_bundled_data_is_an_error() {
        let csv = gunzip(DIGITS_CSV_GZ).unwrap();
        // Drop the last row.
        let body = csv.strip_suffix(b"\n").unwrap();
        let cut = body.iter().rposition(|&b| b == b'\n').unwrap();
        assert_csv_err(&csv[..=cut], ROWS, "expected 1797 rows, found 1796");
        // Set the label of the last row to 10.
        let mut bad = csv[..=cut].to_vec();
        bad.extend_from_slice(&body[cut + 1..body.len() - 1]);
        bad.extend_from_slice(b"10\n");
        assert_csv_err(&bad, ROWS, "line 1797: field 65: label 10");
        // Garbage and truncated gzip streams.
        assert!(matches!(
            gunzip(b"not gzip"),
            Err(Error::Format { format: "gzip", .. })
        ));
        assert!(gunzip(&DIGITS_CSV_GZ[..DIGITS_CSV_GZ.len() / 2]).is_err());
    }
}
