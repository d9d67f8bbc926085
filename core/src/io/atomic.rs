//! Atomic file writes: a save either replaces the old file whole or leaves it untouched.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Error, Result};

/// Writes `path` atomically: `write` fills a new temporary file in the same directory,
/// which is then flushed to the disk (`fsync`), renamed over `path`, and the directory is
/// synced so that the rename itself is durable.
///
/// If `write` or any later step fails (a full disk, an I/O error, a crash before the
/// rename), `path` keeps its previous content and the temporary file is removed (a crash
/// may leave a `.<name>.<pid>.<n>.tmp` file behind, never a damaged `path`). Every save of
/// kerust (weights, checkpoints, `.npy`, `.npz`) goes through this function.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("kerust-atomic-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("data.bin");
/// kerust::io::write_atomic(&path, |f| std::io::Write::write_all(f, b"first"))?;
/// // A write that fails midway leaves the previous content.
/// let failed = kerust::io::write_atomic(&path, |f| {
///     std::io::Write::write_all(f, b"sec")?;
///     Err(std::io::Error::other("disk full"))
/// });
/// assert!(failed.is_err());
/// assert_eq!(std::fs::read(&path).unwrap(), b"first");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), kerust::Error>(())
/// ```
pub fn write_atomic(
    path: impl AsRef<Path>,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> Result<()> {
    let path = path.as_ref();
    let io = |source| Error::Io {
        path: path.into(),
        source,
    };
    let name = path.file_name().ok_or_else(|| {
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the path names no file",
        ))
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(std::format!(".{}.{n}.tmp", std::process::id()));
    let tmp = dir.join(tmp_name);

    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(|source| Error::Io {
            path: tmp.clone(),
            source,
        })?;
    let result = write(&mut file)
        .and_then(|()| file.flush())
        .and_then(|()| file.sync_all());
    drop(file);
    if let Err(source) = result.and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(source));
    }
    sync_dir(&dir).map_err(|source| Error::Io { path: dir, source })
}

/// Makes a rename in `dir` durable (on Unix; elsewhere the rename is all there is).
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(std::format!("kerust-atomic-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn entries(dir: &Path) -> std::vec::Vec<std::string::String> {
        let mut v: std::vec::Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn replaces_or_keeps_and_leaves_no_temporary_file() {
        let dir = scratch("keep");
        let path = dir.join("f.bin");
        write_atomic(&path, |f| f.write_all(b"one")).unwrap();
        write_atomic(&path, |f| f.write_all(b"two!")).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two!");
        let err = write_atomic(&path, |f| {
            f.write_all(b"thr")?;
            Err(std::io::Error::new(std::io::ErrorKind::StorageFull, "full"))
        })
        .unwrap_err();
        assert!(matches!(&err, Error::Io { path: p, .. } if p == &path), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"two!");
        assert_eq!(entries(&dir), ["f.bin"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_directory_is_an_io_error() {
        let err = write_atomic("/nonexistent-kerust-dir/x.bin", |f| f.write_all(b"x")).unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err}");
    }
}
