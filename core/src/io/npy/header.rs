//! The `.npy` header: its `descr` and the Python dict literal NumPy writes, parsed as
//! data (a restricted literal grammar; nothing is evaluated).

use std::format;
use std::string::{String, ToString};
use std::vec::Vec;

use super::{bad, MAX_DIMS, MAX_PAYLOAD};
use crate::Result;

/// The element types kerust reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    F32,
    F64,
    I32,
    I64,
    U8,
}

impl Kind {
    pub(super) fn size(self) -> usize {
        match self {
            Kind::U8 => 1,
            Kind::F32 | Kind::I32 => 4,
            Kind::F64 | Kind::I64 => 8,
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Kind::F32 => "float32",
            Kind::F64 => "float64",
            Kind::I32 => "int32",
            Kind::I64 => "int64",
            Kind::U8 => "uint8",
        }
    }

    /// The little-endian `descr` NumPy writes.
    pub(super) fn descr(self) -> &'static str {
        match self {
            Kind::F32 => "<f4",
            Kind::F64 => "<f8",
            Kind::I32 => "<i4",
            Kind::I64 => "<i8",
            Kind::U8 => "|u1",
        }
    }
}

/// What an `.npy` header declares.
#[derive(Debug)]
pub(super) struct Header {
    pub(super) kind: Kind,
    pub(super) big_endian: bool,
    pub(super) shape: Vec<usize>,
    /// Bytes of values.
    pub(super) data_len: u64,
}

/// Parses a `descr` such as `<f4`, `>i8` or `|u1`.
fn parse_descr(descr: &str) -> Result<(Kind, bool)> {
    let (order, ty) = match descr.as_bytes().first() {
        Some(b'<' | b'>' | b'|' | b'=') => descr.split_at(1),
        _ => ("", descr),
    };
    let kind = match ty {
        "f4" => Kind::F32,
        "f8" => Kind::F64,
        "i4" => Kind::I32,
        "i8" => Kind::I64,
        "u1" => Kind::U8,
        _ => {
            return Err(bad(format!(
                "dtype {descr:?} is not supported: kerust reads float32, float64, int32, int64 and uint8 ('<f4', '<f8', '<i4', '<i8', '|u1', either byte order)"
            )))
        }
    };
    let big_endian = match order {
        ">" => true,
        "<" => false,
        "=" | "" => cfg!(target_endian = "big"),
        _ if kind.size() == 1 => false,
        _ => return Err(bad(format!("dtype {descr:?} has no byte order"))),
    };
    Ok((kind, big_endian))
}

/// A value of the header's dict literal.
enum Value {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
}

/// A parser of the Python literal subset NumPy writes as headers.
struct Lexer<'a> {
    s: &'a [u8],
    i: usize,
}

impl Lexer<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<()> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(bad(format!(
                "header: expected '{}' at byte {}",
                c as char, self.i
            )))
        }
    }

    fn string(&mut self) -> Result<String> {
        let quote = match self.peek() {
            Some(q @ (b'\'' | b'"')) => q,
            _ => return Err(bad(format!("header: expected a string at byte {}", self.i))),
        };
        self.i += 1;
        let start = self.i;
        while let Some(&c) = self.s.get(self.i) {
            if c == quote {
                let text = core::str::from_utf8(&self.s[start..self.i])
                    .map_err(|_| bad("header: a string is not UTF-8"))?;
                self.i += 1;
                return Ok(text.to_string());
            }
            if c == b'\\' {
                return Err(bad("header: escapes in strings are not supported"));
            }
            self.i += 1;
        }
        Err(bad("header: a string is not closed"))
    }

    fn word(&mut self) -> &[u8] {
        self.ws();
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            self.i += 1;
        }
        &self.s[start..self.i]
    }

    fn int(&mut self) -> Result<usize> {
        let word = self.word();
        // Python 2 wrote long integers with an `L` suffix.
        let digits = word.strip_suffix(b"L").unwrap_or(word);
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Err(bad("header: a shape dimension is not a non-negative integer"));
        }
        core::str::from_utf8(digits)
            .ok()
            .and_then(|d| d.parse::<usize>().ok())
            .ok_or_else(|| bad("header: a shape dimension is too large"))
    }

    fn value(&mut self) -> Result<Value> {
        match self.peek() {
            Some(b'\'' | b'"') => Ok(Value::Str(self.string()?)),
            Some(b'(') => {
                self.i += 1;
                let mut dims = Vec::new();
                while !self.eat(b')') {
                    if dims.len() == MAX_DIMS {
                        return Err(bad(format!("header: more than {MAX_DIMS} dimensions")));
                    }
                    dims.push(self.int()?);
                    if !self.eat(b',') {
                        self.expect(b')')?;
                        break;
                    }
                }
                Ok(Value::Tuple(dims))
            }
            Some(b'[') => Err(bad("structured dtypes (a list as 'descr') are not supported")),
            _ => match self.word() {
                b"True" => Ok(Value::Bool(true)),
                b"False" => Ok(Value::Bool(false)),
                _ => Err(bad(format!("header: unexpected value at byte {}", self.i))),
            },
        }
    }
}

/// Parses the header dict.
pub(super) fn parse_header(text: &[u8]) -> Result<Header> {
    let mut lx = Lexer { s: text, i: 0 };
    lx.expect(b'{')?;
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    while !lx.eat(b'}') {
        let key = lx.string()?;
        if !matches!(key.as_str(), "descr" | "fortran_order" | "shape") {
            return Err(bad(format!("header: unknown key '{key}'")));
        }
        lx.expect(b':')?;
        let value = lx.value()?;
        let slot_taken = match (key.as_str(), value) {
            ("descr", Value::Str(s)) => descr.replace(s).is_some(),
            ("fortran_order", Value::Bool(b)) => fortran.replace(b).is_some(),
            ("shape", Value::Tuple(t)) => shape.replace(t).is_some(),
            _ => return Err(bad(format!("header: key '{key}' has a value of the wrong type"))),
        };
        if slot_taken {
            return Err(bad(format!("header: key '{key}' appears twice")));
        }
        if !lx.eat(b',') {
            lx.expect(b'}')?;
            break;
        }
    }
    if lx.peek().is_some() {
        return Err(bad("header: text after the closing '}'"));
    }
    let (Some(descr), Some(fortran), Some(shape)) = (descr, fortran, shape) else {
        return Err(bad("header: needs the keys 'descr', 'fortran_order' and 'shape'"));
    };
    let (kind, big_endian) = parse_descr(&descr)?;
    if fortran && shape.iter().filter(|&&d| d > 1).count() > 1 {
        return Err(bad(
            "Fortran-ordered (column-major) arrays are not supported: save a C-ordered array (numpy.ascontiguousarray)",
        ));
    }
    let data_len = shape
        .iter()
        .try_fold(kind.size() as u64, |a, &d| a.checked_mul(d as u64))
        .filter(|&n| n <= MAX_PAYLOAD)
        .ok_or_else(|| bad(format!("shape {shape:?} is larger than {MAX_PAYLOAD} bytes")))?;
    Ok(Header {
        kind,
        big_endian,
        shape,
        data_len,
    })
}
