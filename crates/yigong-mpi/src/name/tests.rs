use super::*;

/// Expectation: `surname|given`, with `-` for no surname.
fn check(input: &str, expect: &str) {
    let (surname, given) = split(input);
    assert_eq!(format!("{}|{given}", surname.unwrap_or("-")), expect, "input: {input:?}");
}

#[test]
fn single_surname() {
    check("张伟", "张|伟")
}
#[test]
fn single_surname_two_given() {
    check("王小明", "王|小明")
}
#[test]
fn ouyang() {
    check("欧阳娜娜", "欧阳|娜娜")
}
#[test]
fn ouyang_one_given() {
    check("欧阳修", "欧阳|修")
}
#[test]
fn zhuge() {
    check("诸葛亮", "诸葛|亮")
}
#[test]
fn sima() {
    check("司马光", "司马|光")
}
#[test]
fn shangguan() {
    check("上官婉儿", "上官|婉儿")
}
#[test]
fn dongfang() {
    check("东方明", "东方|明")
}
#[test]
fn huangfu() {
    check("皇甫嵩", "皇甫|嵩")
}
#[test]
fn yuchi() {
    check("尉迟恭", "尉迟|恭")
}
#[test]
fn gongsun() {
    check("公孙胜", "公孙|胜")
}
#[test]
fn linghu() {
    check("令狐冲", "令狐|冲")
}
#[test]
fn murong() {
    check("慕容复", "慕容|复")
}
#[test]
fn two_chars_never_compound() {
    check("欧阳", "欧|阳")
}
#[test]
fn ou_alone() {
    check("欧明", "欧|明")
}
#[test]
fn one_char() {
    check("张", "张|")
}
#[test]
fn minority_dot_no_surname() {
    check("阿依古丽·买买提", "-|阿依古丽·买买提")
}
#[test]
fn latin_no_surname() {
    check("zhangwei", "-|zhangwei")
}
#[test]
fn key_surname_pinyin_polyphonic() {
    let key = NameKey::new("单伟");
    assert_eq!(key.surname_pinyin, ["chan", "dan", "shan"]);
    assert_eq!(key.given, "伟");
}
#[test]
fn sorted_lists_intersect() {
    let a = ["a".to_owned(), "c".to_owned()];
    assert!(intersects(&a, &["b".to_owned(), "c".to_owned()]));
    assert!(!intersects(&a, &["b".to_owned(), "d".to_owned()]));
    assert!(!intersects(&a, &[]));
}
