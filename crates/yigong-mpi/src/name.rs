//! A normalised name prepared for comparison: surname and given name split (compound surnames
//! such as 欧阳 and 诸葛 recognised), with its pinyin and fuzzy-pinyin variants computed once.

use crate::normalise::MIDDLE_DOT;
use crate::pinyin;

/// Two-character surnames (复姓): those of the 百家姓 and the ones still common today. A name
/// starting with one of these is split after two characters, unless the name has only two.
pub const COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "令狐", "慕容", "司徒", "司空", "夏侯",
    "长孙", "宇文", "轩辕", "端木", "澹台", "公冶", "濮阳", "淳于", "单于", "太叔", "申屠", "闻人", "赫连",
    "呼延", "南宫", "钟离", "独孤", "百里", "东郭", "西门", "第五", "万俟", "拓跋", "左丘", "梁丘", "鲜于",
    "闾丘", "亓官", "司寇", "仉督", "子车", "颛孙", "壤驷", "公良", "漆雕", "乐正", "宰父", "谷梁", "公西",
    "巫马", "公羊", "羊舌", "微生", "段干", "东门", "叱干", "呼衍", "谷利", "公户", "公玉", "公仪",
];

/// Splits a normalised name into surname and given name. Names with a middle dot (minority
/// names: personal name · father's name) and Latin names have no surname here.
pub fn split(name: &str) -> (Option<&str>, &str) {
    if name.contains(MIDDLE_DOT) || name.chars().all(|c| c.is_ascii_alphanumeric()) {
        return (None, name);
    }
    // Byte offsets of the second and third characters.
    let mut starts = name.char_indices().map(|(i, _)| i).skip(1);
    let second = starts.next().unwrap_or(name.len());
    if let Some(third) = starts.next()
        && COMPOUND_SURNAMES.contains(&&name[..third])
    {
        return (Some(&name[..third]), &name[third..]);
    }
    (Some(&name[..second]), &name[second..])
}

/// A normalised name with everything the comparators and blocking keys need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameKey {
    /// The normalised characters.
    pub chars: String,
    /// The surname, when the name has one (see [`split`]).
    pub surname: Option<String>,
    /// The rest of the name (the whole name when there is no surname).
    pub given: String,
    /// Toneless pinyin variants of the whole name, sorted.
    pub pinyin: Vec<String>,
    /// Fuzzy-pinyin variants of the whole name, sorted.
    pub fuzzy: Vec<String>,
    /// Toneless pinyin variants of the surname, sorted (empty without a surname).
    pub surname_pinyin: Vec<String>,
}

impl NameKey {
    /// Prepares a name already passed through [`crate::normalise::name`].
    pub fn new(normalised: &str) -> Self {
        let (surname, given) = split(normalised);
        Self {
            chars: normalised.to_owned(),
            surname: surname.map(str::to_owned),
            given: given.to_owned(),
            pinyin: pinyin::name_variants(normalised),
            fuzzy: pinyin::fuzzy_variants(normalised),
            surname_pinyin: surname.map(pinyin::name_variants).unwrap_or_default(),
        }
    }
}

/// Whether two sorted lists share an element.
pub(crate) fn intersects<T: Ord>(a: &[T], b: &[T]) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

#[cfg(test)]
mod tests;
