//! Toneless pinyin with every reading of polyphonic characters (单 → dan, chan, shan), a name's
//! pinyin variants, and the fuzzy-pinyin classes of southern and south-western speech
//! (z–zh, c–ch, s–sh, n–l, f–h, an–ang, en–eng, in–ing).
//!
//! Readings come from the `pinyin` crate (mozillazg's pinyin-data, heteronyms included). `ü` is
//! written `v`, as on a keyboard. A character without a reading stands for itself, so two names
//! sharing a rare character still meet.

use pinyin::ToPinyinMulti;

/// Most pinyin variants kept for one name: polyphonic characters multiply (单曾 has 3 × 2).
pub const MAX_VARIANTS: usize = 16;

/// Every toneless reading of `c`, first the most common, without duplicates.
pub fn readings(c: char) -> Vec<String> {
    let Some(multi) = c.to_pinyin_multi() else {
        return vec![c.to_lowercase().collect()];
    };
    let mut out: Vec<String> = Vec::with_capacity(multi.count());
    for reading in multi {
        let plain = reading.plain().replace('ü', "v");
        if !out.contains(&plain) {
            out.push(plain);
        }
    }
    out
}

/// The syllables of a name, one list of readings per character. The middle dot is skipped and a
/// Latin (pinyin-only) name is one "syllable" of its letters.
fn syllables(name: &str) -> Vec<Vec<String>> {
    if name.chars().all(|c| c.is_ascii_alphanumeric()) {
        return vec![vec![name.to_ascii_lowercase()]];
    }
    name.chars().filter(|c| *c != crate::normalise::MIDDLE_DOT).map(readings).collect()
}

/// The cartesian product of the readings, joined without separators, capped at
/// [`MAX_VARIANTS`] (the most common readings come first, so the cap drops the rarest).
fn product(syllables: &[Vec<String>], map: impl Fn(&str) -> String) -> Vec<String> {
    let mut variants = vec![String::new()];
    for options in syllables {
        let mut next = Vec::with_capacity(variants.len() * options.len());
        'outer: for prefix in &variants {
            for option in options {
                next.push(format!("{prefix}{}", map(option)));
                if next.len() == MAX_VARIANTS {
                    break 'outer;
                }
            }
        }
        next.dedup();
        variants = next;
    }
    variants.sort();
    variants.dedup();
    variants
}

/// The toneless pinyin variants of a name, sorted: 单伟 → ["chanwei", "danwei", "shanwei"].
pub fn name_variants(name: &str) -> Vec<String> {
    product(&syllables(name), str::to_owned)
}

/// The fuzzy-pinyin variants of a name: each syllable through [`fuzzy`].
pub fn fuzzy_variants(name: &str) -> Vec<String> {
    if name.chars().all(|c| c.is_ascii_alphanumeric()) {
        // A Latin name is not split into syllables; fuzzy classes only apply to its whole.
        return vec![fuzzy(&name.to_ascii_lowercase())];
    }
    product(&syllables(name), fuzzy)
}

/// One syllable in its fuzzy class: retroflex initials lose the `h` (zh → z, ch → c, sh → s),
/// `l` becomes `n`, `h` (and `hu` before a vowel) becomes `f`, and `ang`/`eng`/`ing` finals lose
/// the `g`. So 刘 liu and 牛 niu, 黄 huang and 房 fang, 陈 chen and 岑 cen, 金 jin and 京 jing
/// fall together.
pub fn fuzzy(syllable: &str) -> String {
    let (initial, rest) = if let Some(rest) = syllable.strip_prefix("zh") {
        ("z", rest)
    } else if let Some(rest) = syllable.strip_prefix("ch") {
        ("c", rest)
    } else if let Some(rest) = syllable.strip_prefix("sh") {
        ("s", rest)
    } else if let Some(rest) = syllable.strip_prefix('l') {
        ("n", rest)
    } else if let Some(rest) = syllable.strip_prefix("hu") {
        // hu- and f- merge as whole syllables: 湖 hu/福 fu, 花 hua/发 fa, 灰 hui/飞 fei.
        match rest {
            "" => ("f", "u"),
            "i" => ("f", "ei"),
            "n" => ("f", "en"),
            other => ("f", other),
        }
    } else if let Some(rest) = syllable.strip_prefix('h') {
        ("f", rest)
    } else {
        ("", syllable)
    };
    let rest = ["ang", "eng", "ing"]
        .iter()
        .find(|end| rest.ends_with(*end))
        .map_or(rest, |_| &rest[..rest.len() - 1]);
    format!("{initial}{rest}")
}

#[cfg(test)]
mod tests;
