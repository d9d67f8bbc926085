//! Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017; MIT licence) read from IDX files.

use std::format;
use std::path::{Path, PathBuf};
use std::vec::Vec;

use crate::data::{Dataset, Target};
use crate::io::idx::{read_idx_file, IdxArray};
use crate::{Error, Result};

/// Where Debian's `dataset-fashion-mnist` package installs the files.
pub const DEBIAN_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// The class names, by label.
pub const CLASS_NAMES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// Loads Fashion-MNIST from `dir` (`train-images-idx3-ubyte.gz`, ... as distributed):
/// 60,000 training and 10,000 test images of shape `[28, 28, 1]`, pixels scaled to
/// `[0, 1]`, labels as class ids. When the files are missing, the error says how to
/// install them.
///
/// ```no_run
/// let (train, test) = kerust::datasets::fashion_mnist(kerust::datasets::fashion_mnist::DEBIAN_DIR)?;
/// assert_eq!(train.sample_shape, vec![28, 28, 1]);
/// # Ok::<(), kerust::Error>(())
/// ```
pub fn fashion_mnist(dir: impl AsRef<Path>) -> Result<(Dataset, Dataset)> {
    let dir = dir.as_ref();
    let file = |stem: &str| -> Result<PathBuf> {
        for name in [format!("{stem}.gz"), stem.into()] {
            let p = dir.join(name);
            if p.exists() {
                return Ok(p);
            }
        }
        Err(Error::data(format!(
            "Fashion-MNIST file {stem}(.gz) not found in {}; install it with `apt-get install dataset-fashion-mnist` (Debian) or download the four IDX files into that directory",
            dir.display()
        )))
    };
    let train = images_and_labels(file("train-images-idx3-ubyte")?, file("train-labels-idx1-ubyte")?)?;
    let test = images_and_labels(file("t10k-images-idx3-ubyte")?, file("t10k-labels-idx1-ubyte")?)?;
    Ok((train, test))
}

/// Builds a dataset from an MNIST-style pair of IDX files (images `[n, h, w]`, labels
/// `[n]`), checking that they agree.
pub fn images_and_labels(images: impl AsRef<Path>, labels: impl AsRef<Path>) -> Result<Dataset> {
    from_arrays(read_idx_file(images)?, read_idx_file(labels)?)
}

/// Builds a dataset from IDX arrays of images `[n, h, w]` and labels `[n]` (labels < 10).
pub fn from_arrays(images: IdxArray, labels: IdxArray) -> Result<Dataset> {
    if images.dims.len() != 3 {
        return Err(Error::Format {
            format: "IDX",
            reason: format!(
                "images must have 3 dimensions [n, height, width], found {:?}",
                images.dims
            ),
        });
    }
    if labels.dims.len() != 1 {
        return Err(Error::Format {
            format: "IDX",
            reason: format!("labels must have 1 dimension [n], found {:?}", labels.dims),
        });
    }
    let (n, h, w) = (images.dims[0], images.dims[1], images.dims[2]);
    if labels.dims[0] != n {
        return Err(Error::data(format!("{n} images but {} labels", labels.dims[0])));
    }
    if let Some(i) = labels.data.iter().position(|&l| l > 9) {
        return Err(Error::data(format!(
            "label {} of sample {i} is not a class id 0..9",
            labels.data[i]
        )));
    }
    let x: Vec<f32> = images.data.iter().map(|&p| f32::from(p) / 255.0).collect();
    let y: Vec<u32> = labels.data.iter().map(|&l| u32::from(l)).collect();
    Dataset::new(x, &[h, w, 1], Target::Classes(y))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;
    use std::vec;

    #[test]
    fn arrays_to_dataset() {
        let images = IdxArray {
            dims: vec![2, 2, 2],
            data: vec![0, 255, 51, 102, 1, 2, 3, 4],
        };
        let labels = IdxArray {
            dims: vec![2],
            data: vec![3, 9],
        };
        let ds = from_arrays(images, labels).unwrap();
        assert_eq!(ds.sample_shape, vec![2, 2, 1]);
        assert_eq!(ds.x[1], 1.0);
        assert!((ds.x[2] - 0.2).abs() < 1e-7);
        assert_eq!(ds.y, Target::Classes(vec![3, 9]));
    }

    #[test]
    fn mismatches_are_errors() {
        let img = || IdxArray {
            dims: vec![2, 1, 1],
            data: vec![0, 0],
        };
        assert!(from_arrays(
            img(),
            IdxArray {
                dims: vec![3],
                data: vec![0; 3]
            }
        )
        .is_err());
        assert!(from_arrays(
            img(),
            IdxArray {
                dims: vec![2],
                data: vec![0, 10]
            }
        )
        .is_err());
        assert!(from_arrays(
            IdxArray {
                dims: vec![2, 1],
                data: vec![0, 0]
            },
            IdxArray {
                dims: vec![2],
                data: vec![0; 2]
            }
        )
        .is_err());
    }

    #[test]
    fn missing_directory_says_how_to_install() {
        let e = fashion_mnist("/nonexistent-dir").unwrap_err().to_string();
        assert!(e.contains("apt-get install dataset-fashion-mnist"), "{e}");
    }
}
