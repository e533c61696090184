//! The few pieces of Python 3.11 string and float semantics that VADER's scores depend on:
//! `str.split()` / `str.strip()` whitespace, `str.strip(string.punctuation)`,
//! `str.isupper()`, `str.lower()` and `round(x, n)`.

/// Python's `str.isspace()` for one character (what `split()` and `strip()` with no
/// argument use). Python counts U+001C..U+001F as whitespace, Rust does not; for
/// everything else Rust's `White_Space` property gives the same answer (checked over every
/// code point against Python 3.11).
#[inline]
pub(super) fn is_space(c: char) -> bool {
    if c.is_ascii() {
        matches!(c, '\t'..='\r' | '\x1c'..='\x1f' | ' ')
    } else {
        c.is_whitespace()
    }
}

/// `s.strip()`.
#[inline]
pub(super) fn strip_whitespace(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// `s.split()`: runs of whitespace separate, no empty pieces.
#[inline]
pub(super) fn split_whitespace(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_space).filter(|t| !t.is_empty())
}

/// `SentiText._strip_punc_if_word`: strip `string.punctuation` (exactly the ASCII
/// punctuation set) from both ends, unless what is left has two characters or fewer, in
/// which case the token is kept whole (it is probably an emoticon such as `:)`).
#[inline]
pub(super) fn strip_punc_if_word(token: &str) -> &str {
    let stripped = token.trim_matches(|c: char| c.is_ascii_punctuation());
    // `len(stripped) <= 2` counts code points.
    if stripped.chars().nth(2).is_none() {
        token
    } else {
        stripped
    }
}

/// Whether `s.lower()` would return `s` unchanged, decided cheaply: only claimed for ASCII
/// without capitals (anything else is lowered through [`lower_into`]).
#[inline]
pub(super) fn is_ascii_lower(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase())
}

/// Appends `s.lower()` to `out`. Rust's `str::to_lowercase` uses the same full case
/// mapping (and final-sigma rule) as Python's; the only strings VADER compares lowered
/// tokens with are ASCII, so differences between Unicode versions cannot matter here.
#[inline]
pub(super) fn lower_into(out: &mut String, s: &str) {
    if s.is_ascii() {
        out.extend(s.bytes().map(|b| char::from(b.to_ascii_lowercase())));
    } else {
        out.push_str(&s.to_lowercase());
    }
}

/// Code points that are uppercase or lowercase in Rust's (newer) Unicode tables but
/// uncased in Python 3.11's Unicode 14.0 (found by comparing both over every code point).
const UNCASED_IN_PYTHON: &[(u32, u32)] = &[
    (0x10FC, 0x10FC),
    (0x1C89, 0x1C8A),
    (0xA7CB, 0xA7CF),
    (0xA7D2, 0xA7D2),
    (0xA7D4, 0xA7D4),
    (0xA7DA, 0xA7DC),
    (0xA7F1, 0xA7F4),
    (0xAB69, 0xAB69),
    (0x10D50, 0x10D65),
    (0x10D70, 0x10D85),
    (0x16EA0, 0x16EB8),
    (0x16EBB, 0x16ED3),
    (0x1DF25, 0x1DF2A),
    (0x1E030, 0x1E06D),
];

/// Titlecase letters (general category `Lt`, Unicode 14.0): Python's `isupper()` is false
/// for any string containing one.
const TITLECASE: &[(u32, u32)] = &[
    (0x01C5, 0x01C5),
    (0x01C8, 0x01C8),
    (0x01CB, 0x01CB),
    (0x01F2, 0x01F2),
    (0x1F88, 0x1F8F),
    (0x1F98, 0x1F9F),
    (0x1FA8, 0x1FAF),
    (0x1FBC, 0x1FBC),
    (0x1FCC, 0x1FCC),
    (0x1FFC, 0x1FFC),
];

fn in_ranges(ranges: &[(u32, u32)], c: char) -> bool {
    let cp = u32::from(c);
    ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&cp))
}

/// Python 3.11's `(Py_UNICODE_ISUPPER, Py_UNICODE_ISLOWER || Py_UNICODE_ISTITLE)` for a
/// non-ASCII character.
fn py_case(c: char) -> (bool, bool) {
    if c == '\u{295}' {
        // 'ʕ' lost the Lowercase property after Unicode 14.
        return (false, true);
    }
    if in_ranges(UNCASED_IN_PYTHON, c) {
        return (false, false);
    }
    (
        c.is_uppercase(),
        c.is_lowercase() || in_ranges(TITLECASE, c),
    )
}

/// Python's `str.isupper()`: no lowercase or titlecase character, and at least one
/// uppercase one (so `"123"`, `":)"` and `"日本"` are not upper, `"OK!"` and `"ÉTÉ"` are).
#[inline]
pub(super) fn is_upper(s: &str) -> bool {
    let mut cased = false;
    if s.is_ascii() {
        for b in s.bytes() {
            if b.is_ascii_lowercase() {
                return false;
            }
            cased |= b.is_ascii_uppercase();
        }
        return cased;
    }
    for c in s.chars() {
        let (upper, lower_or_title) = if c.is_ascii() {
            (c.is_ascii_uppercase(), c.is_ascii_lowercase())
        } else {
            py_case(c)
        };
        if lower_or_title {
            return false;
        }
        cased |= upper;
    }
    cased
}

/// Python's `round(x, ndigits)` for a float: the exact binary value rounded to `ndigits`
/// decimals, ties to even, then read back as the nearest double.
///
/// Fast path: scale by 10^n in floating point; unless the scaled value lies within a hair
/// of a half-way point (where the rounding error of the multiplication could flip the
/// decision), the integer it rounds to is the correctly rounded one, and dividing that
/// exact integer by the exact power of ten is a correctly rounded division, i.e. the same
/// double Python's `strtod` reads back. Near a half-way point, fall back to Rust's exact
/// decimal formatting (round-half-even on the exact value, like Python's `dtoa`).
pub(super) fn py_round(x: f64, ndigits: u32) -> f64 {
    if !x.is_finite() {
        return x;
    }
    let p = f64::from(10u32.pow(ndigits));
    let y = x * p;
    if y.abs() < 1e9 {
        let floor = y.floor();
        let frac = y - floor;
        if (frac - 0.5).abs() > 1e-6 {
            let r = if frac > 0.5 { floor + 1.0 } else { floor };
            let v = r / p;
            return if v == 0.0 { 0.0f64.copysign(x) } else { v };
        }
    }
    let text = format!("{:.*}", ndigits as usize, x);
    text.parse().unwrap_or(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_matches_python_on_ties_and_near_ties() {
        // Expected values from CPython 3.11 `round`.
        let cases: &[(f64, u32, f64)] = &[
            (0.0625, 3, 0.062),
            (0.0005, 3, 0.001),
            (0.00125, 4, 0.0013),
            (0.125, 2, 0.12),
            (0.375, 2, 0.38),
            (0.1875, 3, 0.188),
            (0.4375, 3, 0.438),
            (-0.0625, 3, -0.062),
            (0.00015, 4, 0.0001),
            (0.00025, 4, 0.0003),
            (2.5, 0, 2.0),
            (1.5, 0, 2.0),
            (0.5, 0, 0.0),
            (0.12345678, 4, 0.1235),
            (-0.99999, 4, -1.0),
        ];
        for &(x, n, want) in cases {
            assert_eq!(py_round(x, n), want, "round({x}, {n})");
        }
        assert!(py_round(-0.00001, 4).is_sign_negative());
    }

    #[test]
    fn python_string_predicates() {
        assert!(is_upper("OK!"));
        assert!(is_upper("ÉTÉ"));
        assert!(!is_upper("123"));
        assert!(!is_upper(":)"));
        assert!(!is_upper("ǅA"));
        assert!(!is_upper("Ok"));
        assert_eq!(strip_punc_if_word(":)"), ":)");
        assert_eq!(strip_punc_if_word("(ok)"), "(ok)");
        assert_eq!(strip_punc_if_word("\"great!\""), "great");
        assert_eq!(strip_punc_if_word("¡hola!"), "¡hola");
        assert_eq!(
            split_whitespace(" a\x1cb\u{a0}c\u{200b}d ").collect::<Vec<_>>(),
            ["a", "b", "c\u{200b}d"]
        );
    }
}
