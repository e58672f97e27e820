//! Character clean-up shared by the identity parsers: full-width ASCII, dashes, masking.

/// Full-width ASCII (U+FF01..=U+FF5E) to its ASCII form and the ideographic space (U+3000) to a
/// space: what NFKC does for these ranges, hand-coded because Chinese input methods produce
/// exactly these and nothing else needs NFKC here.
pub(crate) fn half_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        other => other,
    }
}

/// Hyphen-like characters typed between groups of digits: ASCII and full-width hyphen-minus,
/// the Unicode hyphens and dashes, the minus sign.
pub(crate) fn is_dash(c: char) -> bool {
    matches!(c, '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FF0D}')
}

/// [`half_width`] over a string, trimmed.
pub(crate) fn half_width_trimmed(raw: &str) -> String {
    raw.chars().map(half_width).collect::<String>().trim().to_owned()
}

/// [`half_width`], then whitespace and dashes dropped: numbers are typed in groups.
pub(crate) fn compact(raw: &str) -> String {
    raw.chars().map(half_width).filter(|c| !c.is_whitespace() && !is_dash(*c)).collect()
}

/// The string with its middle hidden, keeping its length visible: up to a third of the
/// characters (at most 6) in front and a quarter (at most 4) at the end, so an 18-character
/// number shows like a masked [`super::ResidentId`]. Five characters or fewer are all hidden.
pub(crate) fn mask(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    if n <= 5 {
        return "*".repeat(n);
    }
    let head = (n / 3).min(6);
    let tail = (n / 4).min(4);
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(n - head - tail));
    out.extend(&chars[n - tail..]);
    out
}
