use super::{collapse_whitespace, file_stem, url_for};

fn check_url(base_url: &str, path: &str, expect: &str) {
    assert_eq!(url_for(base_url, path), expect, "base: {base_url:?}, path: {path:?}");
}

#[test]
fn url_absolute_path() {
    check_url("http://127.0.0.1:8080", "/zh-CN/referrals", "http://127.0.0.1:8080/zh-CN/referrals")
}
#[test]
fn url_relative_path() {
    check_url("http://127.0.0.1:8080", "zh-CN", "http://127.0.0.1:8080/zh-CN")
}
#[test]
fn url_root() {
    check_url("http://127.0.0.1:8080", "", "http://127.0.0.1:8080/")
}
#[test]
fn url_query() {
    check_url("http://127.0.0.1:8080", "/?q=张三", "http://127.0.0.1:8080/?q=张三")
}
#[test]
fn url_whole() {
    check_url("http://127.0.0.1:8080", "http://localhost:9/x", "http://localhost:9/x")
}

fn check_stem(name: &str, expect: &str) {
    assert_eq!(file_stem(name), expect, "name: {name:?}");
}

#[test]
fn stem_plain() {
    check_stem("referral_form-sqlite.v2", "referral_form-sqlite.v2")
}
#[test]
fn stem_chinese_kept() {
    check_stem("转诊_sqlite", "转诊_sqlite")
}
#[test]
fn stem_separators_replaced() {
    check_stem("a/b\\c d:e", "a_b_c_d_e")
}
#[test]
fn stem_parent_dir() {
    check_stem("..", "_..")
}
#[test]
fn stem_empty() {
    check_stem("", "_")
}

#[test]
fn whitespace_collapsed() {
    assert_eq!(collapse_whitespace("  姓名\n\t 张三  "), "姓名 张三");
}
