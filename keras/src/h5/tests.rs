//! The reader on small h5py files with one feature each (`tests/fixtures/h5/`, written by
//! `tests/fixtures/make_fixtures.py`), and on damaged copies of them.

use super::*;

const EARLIEST: &[u8] = include_bytes!("../../tests/fixtures/h5/earliest.h5");
const LATEST: &[u8] = include_bytes!("../../tests/fixtures/h5/latest.h5");
const DENSE: &[u8] = include_bytes!("../../tests/fixtures/h5/dense.h5");
const USERBLOCK: &[u8] = include_bytes!("../../tests/fixtures/h5/userblock.h5");

fn values(file: &File<'_>, path: &str) -> (Vec<usize>, Vec<f32>) {
    file.dataset(path).and_then(|d| d.read_f32()).unwrap()
}

fn reason(r: Result<impl std::fmt::Debug>) -> String {
    match r {
        Err(Error::Format {
            format: "HDF5",
            reason,
        }) => reason,
        other => panic!("expected an HDF5 format error, got {other:?}"),
    }
}

/// What every structural variant holds, read back.
fn check_content(bytes: &[u8]) {
    let f = File::parse(bytes).unwrap();
    let names: Vec<_> = f
        .root()
        .unwrap()
        .members()
        .iter()
        .map(|l| l.name.clone())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
    for n in ["a", "many", "storage", "types"] {
        assert!(names.iter().any(|m| m == n), "{n} missing from {names:?}");
    }
    // Nested groups; a 2x3 float32 matrix.
    assert_eq!(
        values(&f, "a/b/c/values"),
        (vec![2, 3], vec![0.0, 0.25, 0.5, 0.75, 1.0, 1.25])
    );
    assert_eq!(values(&f, "/a//b/c/values/").1.len(), 6);
    // Element types.
    let (s, v) = values(&f, "types/f64");
    assert_eq!((s, v), (vec![4], vec![1.5, -2.25, 1e-3, 3e38]));
    assert_eq!(f.dataset("types/f64").unwrap().dtype().name(), "float64");
    assert_eq!(values(&f, "types/big_endian").1, [1.0, -2.0, 0.5]);
    assert_eq!(values(&f, "types/i8").1, [-128.0, -1.0, 0.0, 127.0]);
    assert_eq!(values(&f, "types/u16").1, [0.0, 1.0, 65535.0]);
    assert_eq!(values(&f, "types/i64").1, [-(2f32.powi(40)), 7.0]);
    assert_eq!(values(&f, "types/scalar"), (vec![], vec![2.5]));
    // Soft links are left out of the members.
    assert!(!f.group("types").unwrap().contains("soft"));
    assert!(reason(f.get("types/soft")).contains("no member `soft`"));
    // Storage: compact, empty (never written), refused chunked and compressed.
    assert_eq!(values(&f, "storage/compact"), (vec![3], vec![3.0, 4.0, 5.0]));
    assert_eq!(values(&f, "storage/empty"), (vec![0, 4], vec![]));
    assert!(reason(f.get("storage/chunked")).contains("chunked"));
    assert!(reason(f.get("storage/gzip")).contains("compression"));
}

#[test]
fn superblock_0_symbol_tables_and_v1_headers() {
    assert_eq!(File::parse(EARLIEST).unwrap().superblock_version(), 0);
    check_content(EARLIEST);
}

#[test]
fn superblock_3_compact_links_and_v2_headers() {
    assert_eq!(File::parse(LATEST).unwrap().superblock_version(), 3);
    check_content(LATEST);
    let many = File::parse(LATEST).unwrap().group("many").unwrap();
    assert_eq!(many.members().len(), 6);
}

#[test]
fn user_block_before_the_superblock() {
    assert_eq!(
        &USERBLOCK[..8],
        &[0u8; 8],
        "the fixture starts with a zeroed user block"
    );
    check_content(USERBLOCK);
}

#[test]
fn multi_level_symbol_table_b_tree() {
    let f = File::parse(EARLIEST).unwrap();
    let many = f.group("many").unwrap();
    let names: Vec<_> = many.members().iter().map(|l| l.name.as_str()).collect();
    let expected: Vec<_> = (0..300).map(|i| format!("m{i:03}")).collect();
    assert_eq!(names, expected, "all 300 members, in name order");
    for name in ["m000", "m150", "m299"] {
        assert_eq!(values(&f, &format!("many/{name}")).1, [7.0]);
    }
}

#[test]
fn dense_link_storage_is_refused_by_name() {
    let f = File::parse(DENSE).unwrap();
    assert!(reason(f.group("many")).contains("dense link storage"));
    // The rest of the file still reads.
    assert_eq!(values(&f, "types/i8").1.len(), 4);
}

#[test]
fn wrong_kinds_of_objects_and_missing_names() {
    let f = File::parse(LATEST).unwrap();
    assert!(reason(f.dataset("a/b")).contains("`a/b` is a group"));
    assert!(reason(f.group("a/b/c/values")).contains("is a dataset"));
    assert!(reason(f.get("a/b/c/values/x")).contains("is a dataset, not a group"));
    assert!(reason(f.get("a/nope")).contains("group `a` has no member `nope`"));
}

#[test]
fn not_hdf5_and_truncated() {
    assert!(reason(File::parse(b"")).contains("not an HDF5 file"));
    assert!(reason(File::parse(&[0u8; 4096])).contains("not an HDF5 file"));
    // Cut right after the signature, inside the superblock, and before the root's header.
    assert!(reason(File::parse(&EARLIEST[..12])).contains("truncated"));
    assert!(File::parse(&EARLIEST[..60]).is_err());
    let cut = &EARLIEST[..200];
    assert!(File::parse(cut).and_then(|f| f.root()).is_err());
    // Every prefix of both files either fails cleanly or reads.
    for bytes in [EARLIEST, LATEST] {
        for len in (0..bytes.len()).step_by(97) {
            let _ = File::parse(&bytes[..len]).and_then(|f| read_everything(&f));
        }
    }
}

/// Reads every group and dataset reachable from the root, ignoring errors of single
/// objects, and counts what was read (bounded by the depth limit).
fn read_everything(f: &File<'_>) -> Result<usize> {
    fn walk(g: &Group<'_>, depth: usize, n: &mut usize) {
        if depth > 8 {
            return;
        }
        for link in g.members() {
            match g.get(&link.name) {
                Ok(Node::Group(c)) => walk(&c, depth + 1, n),
                Ok(Node::Dataset(d)) => *n += d.read_f32().map_or(0, |v| v.1.len()),
                Err(_) => {}
            }
        }
    }
    let mut n = 0;
    walk(&f.root()?, 0, &mut n);
    Ok(n)
}

#[test]
fn every_flipped_byte_fails_cleanly_or_reads() {
    // One byte at a time over the metadata-rich start of each file.
    for bytes in [EARLIEST, LATEST] {
        let mut copy = bytes.to_vec();
        for i in (0..bytes.len().min(4000)).step_by(5) {
            for v in [0xff, copy[i] ^ 0x41] {
                let old = copy[i];
                copy[i] = v;
                let _ = File::parse(&copy).and_then(|f| read_everything(&f));
                copy[i] = old;
            }
        }
    }
}

#[test]
fn offsets_past_the_end_and_sizes_that_overflow() {
    let f = File::parse(EARLIEST).unwrap();
    assert!(reason(f.slice(u64::MAX - 1, 4, "x")).contains("outside the file"));
    assert!(reason(f.slice(10, usize::MAX, "x")).contains("past the end"));
    assert!(reason(f.reader_at(EARLIEST.len() as u64 + 1, "x")).contains("outside the file"));
    // A dataspace claiming 2^60 x 2^60 elements.
    let storage = dataset::Storage::Compact(&[0u8; 16]);
    assert!(reason(dataset::raw(&f, storage, usize::MAX, 4)).contains("overflows"));
    assert!(reason(dataset::raw(&f, storage, 5, 4)).contains("needs 20 bytes"));
}

/// A minimal file: superblock 0 with 8-byte sizes whose root object header, at byte 96,
/// is version 1 with the messages `messages` (each `(type, body)`).
fn synthetic(messages: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut b = SIGNATURE.to_vec();
    b.extend([0, 0, 0, 0, 0, 8, 8, 0]);
    b.extend(4u16.to_le_bytes());
    b.extend(16u16.to_le_bytes());
    b.extend(0u32.to_le_bytes());
    b.extend(0u64.to_le_bytes()); // base
    b.extend([0xff; 8]); // free space
    b.extend(0u64.to_le_bytes()); // end of file (unchecked)
    b.extend([0xff; 8]); // driver
    b.extend(0u64.to_le_bytes()); // root: name offset
    b.extend(96u64.to_le_bytes()); // root: header address
    b.extend([0; 24]);
    assert_eq!(b.len(), 96);
    let body: Vec<u8> = messages
        .iter()
        .flat_map(|(t, m)| {
            let mut v = t.to_le_bytes().to_vec();
            v.extend((m.len() as u16).to_le_bytes());
            v.extend([0; 4]);
            v.extend(m);
            v
        })
        .collect();
    b.extend([1, 0]);
    b.extend((messages.len() as u16).to_le_bytes());
    b.extend(1u32.to_le_bytes());
    b.extend((body.len() as u32).to_le_bytes());
    b.extend([0; 4]);
    b.extend(body);
    b
}

#[test]
fn continuation_cycles_end_in_an_error() {
    // A continuation message at byte 112 whose block is that same message.
    let mut cont = 112u64.to_le_bytes().to_vec();
    cont.extend(24u64.to_le_bytes());
    let bytes = synthetic(&[(0x10, cont)]);
    assert!(reason(File::parse(&bytes).unwrap().root()).contains("a cycle"));
}

#[test]
fn b_tree_cycles_and_shared_subtrees_end_in_an_error() {
    // The level-1 node of `many`: make its second child its first.
    let at = (0..EARLIEST.len() - 6)
        .find(|&i| &EARLIEST[i..i + 4] == b"TREE" && EARLIEST[i + 4] == 0 && EARLIEST[i + 5] == 1)
        .expect("the fixture has a level-1 group B-tree node");
    let mut bytes = EARLIEST.to_vec();
    let first = bytes[at + 32..at + 40].to_vec();
    bytes[at + 48..at + 56].copy_from_slice(&first);
    let f = File::parse(&bytes).unwrap();
    assert!(reason(f.group("many")).contains("reached twice"));
    // A child that points back at the node itself.
    bytes[at + 32..at + 40].copy_from_slice(&(at as u64).to_le_bytes());
    let f = File::parse(&bytes).unwrap();
    assert!(reason(f.group("many")).contains("reached twice"));
    // Children must sit one level below their parent.
    let mut bytes = EARLIEST.to_vec();
    bytes[at + 5] = 2;
    let f = File::parse(&bytes).unwrap();
    assert!(reason(f.group("many")).contains("has level 0, expected 1"));
}

#[test]
fn a_header_without_group_or_dataset_messages() {
    let bytes = synthetic(&[(0x0012, vec![0; 8])]);
    assert!(reason(File::parse(&bytes).unwrap().root()).contains("neither a group nor a dataset"));
}

#[test]
fn duplicate_member_names_are_refused() {
    // Two compact links named `x`.
    let link = |addr: u64| {
        let mut v = vec![1, 0, 1, b'x'];
        v.extend(addr.to_le_bytes());
        v
    };
    let bytes = synthetic(&[(0x0006, link(96)), (0x0006, link(96))]);
    assert!(reason(File::parse(&bytes).unwrap().root()).contains("two members named `x`"));
    // One link to the root itself: a cycle a walker must bound, reachable by path.
    let bytes = synthetic(&[(0x0006, link(96))]);
    let f = File::parse(&bytes).unwrap();
    assert!(matches!(f.get("x/x/x/x"), Ok(Node::Group(_))));
    let deep = vec!["x"; MAX_DEPTH + 1].join("/");
    assert!(reason(f.get(&deep)).contains("deeper than"));
}

#[test]
fn files_are_read_up_to_a_limit() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/h5/latest.h5");
    assert_eq!(read_file(&path).unwrap(), LATEST);
    let msg = reason(read_limited(&path, 1000, "HDF5"));
    assert!(msg.contains("more than the limit of 1000"), "{msg}");
    assert!(matches!(
        read_file(path.with_extension("missing")),
        Err(Error::Io { .. })
    ));
}

#[test]
fn datasets_lists_every_tensor_in_order() {
    let bytes = include_bytes!("../../tests/fixtures/mlp.weights.h5");
    let f = File::parse(bytes).unwrap();
    let found: Vec<(String, Vec<usize>, String)> = f
        .datasets()
        .unwrap()
        .iter()
        .map(|d| (d.path().to_string(), d.shape().to_vec(), d.dtype().name()))
        .collect();
    let want = [
        ("layers/dense/vars/0", vec![64, 32]),
        ("layers/dense/vars/1", vec![32]),
        ("layers/dense_1/vars/0", vec![32, 10]),
        ("layers/dense_1/vars/1", vec![10]),
    ];
    assert_eq!(found.len(), want.len(), "{found:?}");
    for ((path, shape, dtype), (p, s)) in found.iter().zip(want) {
        assert_eq!((path.as_str(), shape, dtype.as_str()), (p, &s, "float32"));
    }
    // A dataset the reader refuses is an error that names it.
    let err = reason(File::parse(EARLIEST).unwrap().datasets());
    assert!(
        err.contains("storage/chunked") || err.contains("storage/gzip"),
        "{err}"
    );
}
