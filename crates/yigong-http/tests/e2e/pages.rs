//! The main paths of the UI shell, as a user walks them.

use yigong_testkit::browser::Browser;

use crate::PASSWORD;

pub(crate) async fn log_in(page: &Browser, username: &str) {
    page.goto("/login").await;
    page.fill_labelled("用户名", username).await;
    page.fill_labelled("密码", PASSWORD).await;
    page.click_button("登录").await;
    page.expect_text("您好").await;
}

pub async fn login_wrong_then_right_and_switch_language(page: &Browser) {
    page.goto("/").await;
    // Anonymous visitors land on the login page, in Chinese.
    assert_eq!(page.current_path().await, "/login");
    page.fill_labelled("用户名", "admin").await;
    page.fill_labelled("密码", "not-the-password-1").await;
    page.click_button("登录").await;
    page.expect_text("用户名或密码不正确").await;
    page.fill_labelled("密码", PASSWORD).await;
    page.click_button("登录").await;
    page.expect_text("您好，admin测试").await;
    page.expect_text("系统管理员").await;
    // Switch to English; the choice is kept on the account across pages and logins.
    page.click_button("English").await;
    page.expect_text("Hello, admin测试").await;
    page.click_link("Institutions").await;
    page.expect_text("Township health centre").await;
    page.click_button("Log out").await;
    page.fill_labelled("Username", "admin").await;
    page.fill_labelled("Password", PASSWORD).await;
    page.click_button("Log in").await;
    page.expect_text("Hello, admin测试").await;
    page.click_button("中文").await;
    page.expect_text("您好，admin测试").await;
}

pub async fn institution_tree_and_search(page: &Browser) {
    log_in(page, "township").await;
    page.click_link("机构").await;
    page.expect_text("青岚县").await;
    page.expect_text("东关镇中心卫生院").await;
    // Down the tree: county → township centre's village sites → one village site.
    page.click_link("18 个下属点").await;
    page.expect_text("东关镇中心卫生院").await;
    page.expect_text("村级服务点").await;
    page.click_link("东关镇中心卫生院郑家铺村服务点").await;
    page.expect_text("所在区划").await;
    page.expect_text("东关镇 郑家铺村").await;
    // Search.
    page.goto("/institutions").await;
    page.fill_labelled("搜索机构", "白沙").await;
    page.click_button("搜索").await;
    page.expect_text("搜索结果").await;
    page.expect_text("白沙镇中心卫生院").await;
    page.expect_no_text("龙泉镇中心卫生院").await;
}

pub async fn create_institution_error_then_success(page: &Browser) {
    log_in(page, "admin").await;
    page.goto("/institutions").await;
    page.click_link("新增机构").await;
    page.fill_labelled("机构编码", "V9001").await;
    page.fill_labelled("机构名称", "测试村卫生服务点").await;
    page.select_labelled("机构类别", "村级服务点").await;
    page.fill_labelled("行政区划代码（12位）", "990121101201").await;
    page.click_button("保存").await;
    // The error sits beside its field, in Chinese, and the values stay.
    page.expect_text("村级服务点必须选择所属乡镇卫生院").await;
    assert_eq!(page.attribute("#f-parent_id", "aria-invalid").await.as_deref(), Some("true"));
    assert_eq!(page.attribute("#f-code", "value").await.as_deref(), Some("V9001"));
    page.fill_labelled("行政区划代码（12位）", "99012110120").await;
    page.select_labelled("上级机构（乡镇卫生院）", "东关镇中心卫生院 (T101)").await;
    page.click_button("保存").await;
    page.expect_text("行政区划代码应为 12 位数字").await;
    page.fill_labelled("行政区划代码（12位）", "990121101201").await;
    page.click_button("保存").await;
    page.expect_text("测试村卫生服务点").await;
    page.expect_text("成员资格记录").await;
    assert!(page.current_path().await.starts_with("/institutions/"));
}

pub async fn scope_refusal_is_a_readable_page(page: &Browser) {
    log_in(page, "village").await;
    page.expect_text("乡村医生").await;
    page.goto("/users").await;
    page.expect_text("无权访问").await;
    page.expect_text("您当前的角色或机构范围不允许进行此操作").await;
    page.click_link("返回首页").await;
    page.expect_text("您好").await;
}

/// An institution administrator may write their own institution's records, not register new
/// institutions for the county: the refusal is a page in Chinese, not an error dump.
pub async fn out_of_scope_write_is_a_readable_page(page: &Browser) {
    log_in(page, "tadmin").await;
    page.goto("/institutions").await;
    page.expect_no_text("新增机构").await;
    page.goto("/institutions/new").await;
    page.fill_labelled("机构编码", "V9002").await;
    page.fill_labelled("机构名称", "越权新增的服务点").await;
    page.select_labelled("机构类别", "村级服务点").await;
    page.fill_labelled("行政区划代码（12位）", "990121101201").await;
    page.select_labelled("上级机构（乡镇卫生院）", "东关镇中心卫生院 (T101)").await;
    page.click_button("保存").await;
    page.expect_text("无权访问").await;
    page.expect_text("该对象不在您的机构范围内").await;
    page.goto("/institutions?q=V9002").await;
    page.expect_text("没有找到记录").await;
}

pub async fn keyboard_navigation_and_logout(page: &Browser) {
    log_in(page, "admin").await;
    // The first Tab reaches the skip link, so keyboard users can jump past the header.
    page.goto("/").await;
    page.press_tab().await;
    assert_eq!(page.focused_text().await, "跳到正文");
    page.click_button("退出登录").await;
    page.expect_text("登录").await;
    page.goto("/staff").await;
    assert_eq!(page.current_path().await, "/login");
}
