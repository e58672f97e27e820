//! Specific Character Set (0008,0005) decoding, DICOM PS3.5 §6.1 and Annex H–K.
//!
//! Text values (PN, LO, SH, ST, LT, UT, UC) are decoded here from their raw bytes rather than by
//! the parser, which looks at the first value of (0008,0005) only and so misses the usual
//! `\ISO 2022 IR 58` (GB 2312 by code extension) and `\ISO 2022 IR 87` forms. Supported:
//! `ISO_IR 192` (UTF-8), `GB18030`, `GBK`, `ISO 2022 IR 58` (GB 2312), the single-byte sets
//! (`ISO_IR 100`, 101, 109, 110, 126, 127, 138, 144, 148, 166, 13) and their ISO 2022 forms, and
//! `ISO 2022 IR 87`/`159` (Japanese) and `ISO 2022 IR 149` (Korean) by code extension. Bytes that
//! are invalid in their set become U+FFFD, never an error: a name is kept as well as it can be.

use encoding_rs::{EUC_JP, EUC_KR, Encoding, GB18030, SHIFT_JIS, UTF_8};

/// What one declared term selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Term {
    /// The default repertoire (ISO-IR 6, ASCII).
    Default,
    /// A whole-value encoding without code extension (UTF-8, GB18030, GBK).
    Whole(&'static Encoding),
    /// A single-byte set: ASCII in G0, the set's upper half in G1.
    Single(&'static Encoding),
    /// JIS X 0201 (ISO-IR 13): romaji in G0, half-width katakana in G1.
    Katakana,
    /// A 94×94 set invoked into G1 (GB 2312, KS X 1001), decoded by an EUC encoding.
    DoubleG1(&'static Encoding),
    /// A 94×94 set invoked into G0 (JIS X 0208, JIS X 0212), decoded by EUC-JP.
    DoubleG0,
}

/// The character sets a data set declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CharacterSets {
    /// The term of value 1: active at the start of every value and after every delimiter.
    first: Term,
    /// Whether code extensions (ISO 2022 escapes) may appear.
    extensions: bool,
    /// Terms that were not recognised (kept for a warning).
    unknown: Vec<String>,
}

impl Default for CharacterSets {
    fn default() -> Self {
        Self { first: Term::Default, extensions: false, unknown: Vec::new() }
    }
}

fn term(name: &str) -> Option<Term> {
    let t = match name {
        "" | "ISO_IR 6" | "ISO 2022 IR 6" => Term::Default,
        "ISO_IR 192" => Term::Whole(UTF_8),
        "GB18030" => Term::Whole(GB18030),
        // encoding_rs decodes GBK as GB18030, a superset.
        "GBK" | "GB2312" => Term::Whole(GB18030),
        "ISO 2022 IR 58" => Term::DoubleG1(GB18030),
        "ISO 2022 IR 149" => Term::DoubleG1(EUC_KR),
        "ISO 2022 IR 87" | "ISO 2022 IR 159" => Term::DoubleG0,
        "ISO_IR 13" | "ISO 2022 IR 13" => Term::Katakana,
        "ISO_IR 100" | "ISO 2022 IR 100" => Term::Single(encoding_rs::WINDOWS_1252),
        "ISO_IR 101" | "ISO 2022 IR 101" => Term::Single(encoding_rs::ISO_8859_2),
        "ISO_IR 109" | "ISO 2022 IR 109" => Term::Single(encoding_rs::ISO_8859_3),
        "ISO_IR 110" | "ISO 2022 IR 110" => Term::Single(encoding_rs::ISO_8859_4),
        "ISO_IR 144" | "ISO 2022 IR 144" => Term::Single(encoding_rs::ISO_8859_5),
        "ISO_IR 127" | "ISO 2022 IR 127" => Term::Single(encoding_rs::ISO_8859_6),
        "ISO_IR 126" | "ISO 2022 IR 126" => Term::Single(encoding_rs::ISO_8859_7),
        "ISO_IR 138" | "ISO 2022 IR 138" => Term::Single(encoding_rs::ISO_8859_8),
        "ISO_IR 148" | "ISO 2022 IR 148" => Term::Single(encoding_rs::WINDOWS_1254),
        "ISO_IR 166" | "ISO 2022 IR 166" => Term::Single(encoding_rs::WINDOWS_874),
        _ => return None,
    };
    Some(t)
}

impl CharacterSets {
    /// Reads the raw value of (0008,0005) (terms separated by `\`).
    pub fn from_value(raw: &[u8]) -> Self {
        let text = String::from_utf8_lossy(raw);
        let names: Vec<&str> = text.split('\\').map(|s| s.trim_matches([' ', '\0'])).collect();
        let mut unknown = Vec::new();
        let mut first = Term::Default;
        for (i, name) in names.iter().enumerate() {
            match term(name) {
                Some(t) if i == 0 => first = t,
                Some(_) => {}
                None => unknown.push((*name).to_owned()),
            }
        }
        let extensions = names.len() > 1 || names.first().is_some_and(|n| n.starts_with("ISO 2022"));
        Self { first, extensions, unknown }
    }

    /// The declared terms that are not recognised (their text is decoded as ASCII).
    pub fn unknown(&self) -> &[String] {
        &self.unknown
    }

    /// Decodes one text value (all its values, `\` kept) to UTF-8, trailing padding removed.
    pub fn decode(&self, raw: &[u8]) -> String {
        let mut out = match self.first {
            Term::Whole(enc) if !self.extensions || enc == UTF_8 => {
                enc.decode_without_bom_handling(raw).0.into_owned()
            }
            _ => self.decode_iso2022(raw),
        };
        let trimmed = out.trim_end_matches([' ', '\0']).len();
        out.truncate(trimmed);
        out
    }

    /// Decodes a multi-valued text value into its values (split after decoding, so that a
    /// GB18030 trail byte 0x5C is not taken for a delimiter), each trimmed.
    pub fn decode_values(&self, raw: &[u8]) -> Vec<String> {
        self.decode(raw).split('\\').map(|v| v.trim_matches([' ', '\0']).to_owned()).collect()
    }

    /// ISO 2022 code extension: G0 and G1 change with escape sequences and return to the
    /// initial state before each delimiter (`^`, `=`, `\`, CR, LF, FF, TAB).
    fn decode_iso2022(&self, raw: &[u8]) -> String {
        let initial = match self.first {
            Term::DoubleG0 => (Term::Default, Term::Default),
            t => (Term::Default, t),
        };
        let (mut g0, mut g1) = initial;
        let mut out = String::with_capacity(raw.len());
        let mut i = 0;
        while i < raw.len() {
            let b = raw[i];
            if b == 0x1B {
                if let Some((len, set)) = escape(&raw[i..]) {
                    match set {
                        Invoked::G0(t) => g0 = t,
                        Invoked::G1(t) => g1 = t,
                    }
                    i += len;
                    continue;
                }
                out.push('\u{FFFD}');
                i += 1;
                continue;
            }
            if b < 0x80 {
                if g0 == Term::DoubleG0 && (0x21..0x7F).contains(&b) {
                    let pair = [b | 0x80, raw.get(i + 1).copied().unwrap_or(0) | 0x80];
                    out.push_str(&EUC_JP.decode_without_bom_handling(&pair).0);
                    i += 2;
                    continue;
                }
                if matches!(b, b'^' | b'=' | b'\\' | b'\r' | b'\n' | 0x0C | b'\t') {
                    (g0, g1) = initial;
                }
                out.push(char::from(b));
                i += 1;
                continue;
            }
            match g1 {
                Term::DoubleG1(enc) => {
                    let pair = [b, raw.get(i + 1).copied().unwrap_or(0)];
                    out.push_str(&enc.decode_without_bom_handling(&pair).0);
                    i += 2;
                }
                Term::Single(enc) => {
                    out.push_str(&enc.decode_without_bom_handling(&[b]).0);
                    i += 1;
                }
                Term::Katakana => {
                    out.push_str(&SHIFT_JIS.decode_without_bom_handling(&[b]).0);
                    i += 1;
                }
                Term::Whole(enc) => {
                    // A whole-value set with extensions declared: decode the run of high bytes.
                    let end = raw[i..].iter().position(|c| *c < 0x80).map_or(raw.len(), |p| i + p);
                    out.push_str(&enc.decode_without_bom_handling(&raw[i..end]).0);
                    i = end;
                }
                Term::Default | Term::DoubleG0 => {
                    out.push('\u{FFFD}');
                    i += 1;
                }
            }
        }
        out
    }
}

enum Invoked {
    G0(Term),
    G1(Term),
}

/// The escape sequence at the start of `s` (which begins with ESC): its length and what it
/// invokes (PS3.3 C.12.1.1.2, PS3.5 Annex H–K).
fn escape(s: &[u8]) -> Option<(usize, Invoked)> {
    let seqs: &[(&[u8], Invoked)] = &[
        (b"\x1b(B", Invoked::G0(Term::Default)),
        (b"\x1b(J", Invoked::G0(Term::Default)),
        (b"\x1b$B", Invoked::G0(Term::DoubleG0)),
        (b"\x1b$(D", Invoked::G0(Term::DoubleG0)),
        (b"\x1b)I", Invoked::G1(Term::Katakana)),
        (b"\x1b$)A", Invoked::G1(Term::DoubleG1(GB18030))),
        (b"\x1b$)C", Invoked::G1(Term::DoubleG1(EUC_KR))),
        (b"\x1b-A", Invoked::G1(Term::Single(encoding_rs::WINDOWS_1252))),
        (b"\x1b-B", Invoked::G1(Term::Single(encoding_rs::ISO_8859_2))),
        (b"\x1b-C", Invoked::G1(Term::Single(encoding_rs::ISO_8859_3))),
        (b"\x1b-D", Invoked::G1(Term::Single(encoding_rs::ISO_8859_4))),
        (b"\x1b-L", Invoked::G1(Term::Single(encoding_rs::ISO_8859_5))),
        (b"\x1b-G", Invoked::G1(Term::Single(encoding_rs::ISO_8859_6))),
        (b"\x1b-F", Invoked::G1(Term::Single(encoding_rs::ISO_8859_7))),
        (b"\x1b-H", Invoked::G1(Term::Single(encoding_rs::ISO_8859_8))),
        (b"\x1b-M", Invoked::G1(Term::Single(encoding_rs::WINDOWS_1254))),
        (b"\x1b-T", Invoked::G1(Term::Single(encoding_rs::WINDOWS_874))),
    ];
    seqs.iter().find(|(seq, _)| s.starts_with(seq)).map(|(seq, inv)| {
        let inv = match inv {
            Invoked::G0(t) => Invoked::G0(*t),
            Invoked::G1(t) => Invoked::G1(*t),
        };
        (seq.len(), inv)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(sets: &str, raw: &[u8]) -> String {
        CharacterSets::from_value(sets.as_bytes()).decode(raw)
    }

    #[test]
    fn chinese_names_decode_in_every_declared_form() {
        // PS3.5 Annex J (UTF-8) and the GB18030 example.
        assert_eq!(decode("ISO_IR 192", "Wang^XiaoDong=王^小東=".as_bytes()), "Wang^XiaoDong=王^小東=");
        assert_eq!(decode("GB18030", b"Wang^XiaoDong=\xcd\xf5^\xd0\xa1\xb6\xab="), "Wang^XiaoDong=王^小东=");
        assert_eq!(decode("GBK", b"\xd5\xc5^\xc8\xfd"), "张^三");
        // PS3.5 Annex K: GB 2312 by code extension, value 1 empty (the usual form) or not.
        let ir58 = b"Zhang^XiaoDong=\x1b$)A\xd5\xc5^\x1b$)A\xd0\xa1\xb6\xab=";
        assert_eq!(decode("\\ISO 2022 IR 58", ir58), "Zhang^XiaoDong=张^小东=");
        assert_eq!(decode("ISO 2022 IR 6\\ISO 2022 IR 58", ir58), "Zhang^XiaoDong=张^小东=");
        assert_eq!(decode("ISO 2022 IR 58", b"\xd5\xc5^\xc8\xfd"), "张^三");
    }

    #[test]
    fn japanese_and_korean_code_extensions() {
        let h31 = b"Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B";
        assert_eq!(decode("\\ISO 2022 IR 87", h31), "Yamada^Tarou=山田^太郎=やまだ^たろう");
        let h32 = b"\xd4\xcf\xc0\xde^\xc0\xdb\xb3=\x1b$B;3ED\x1b(J^\x1b$BB@O:\x1b(J=\x1b$B$d$^$@\x1b(J^\x1b$B$?$m$&\x1b(J";
        assert_eq!(decode("ISO 2022 IR 13\\ISO 2022 IR 87", h32), "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう");
        let i2 =
            b"Hong^Gildong=\x1b$)C\xfb\xf3^\x1b$)C\xd1\xce\xd4\xd7=\x1b$)C\xc8\xab^\x1b$)C\xb1\xe6\xb5\xbf";
        assert_eq!(decode("\\ISO 2022 IR 149", i2), "Hong^Gildong=洪^吉洞=홍^길동");
    }

    #[test]
    fn single_byte_sets() {
        assert_eq!(decode("ISO_IR 100", b"Buc^J\xe9r\xf4me"), "Buc^Jérôme");
        assert_eq!(decode("ISO_IR 144", b"\xbb\xee\xdace\xdc\xd1yp\xd3"), "Люкceмбypг");
        assert_eq!(decode("ISO_IR 126", b"\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2"), "Διονυσιος");
        assert_eq!(decode("ISO_IR 138", b"\xf9\xf8\xe5\xef^\xe3\xe1\xe5\xf8\xe4"), "שרון^דבורה");
        assert_eq!(decode("ISO_IR 127", b"\xe2\xc8\xc7\xe6\xea^\xe4\xe6\xd2\xc7\xd1"), "قباني^لنزار");
        assert_eq!(decode("", b"Doe^John "), "Doe^John");
    }

    #[test]
    fn values_split_after_decoding_and_bad_bytes_do_not_fail() {
        // 乗 in GBK is 0x81 0x5C: its trail byte is not a delimiter.
        let sets = CharacterSets::from_value(b"GB18030");
        assert_eq!(sets.decode_values(b"\x81\x5c\\ABC "), vec!["\u{4e57}".to_owned(), "ABC".to_owned()]);
        let utf8 = CharacterSets::from_value(b"ISO_IR 192");
        assert_eq!(utf8.decode(b"A\xffB"), "A\u{FFFD}B");
        let unknown = CharacterSets::from_value(b"ISO_IR 999");
        assert_eq!(unknown.unknown(), ["ISO_IR 999"]);
        assert_eq!(unknown.decode(b"Doe"), "Doe");
    }
}
