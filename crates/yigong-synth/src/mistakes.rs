//! The mistakes made when a resident registers again at another facility (DESIGN.md §10.1):
//! homophones (同音字), look-alike characters (形近字), polyphonic surnames, pinyin-only and pet
//! names (小名), day and month swapped, a mistyped or transposed ID digit, the old 15-digit
//! number. Each function returns `None` when the mistake cannot be made on that value.

use chrono::{Datelike, NaiveDate};
use rand::Rng;

use crate::names::SURNAMES;

/// Groups of characters, the first one followed by the homophones (same toneless pinyin) a
/// clerk may type for it from an input method's list: given-name characters, then surnames.
const HOMOPHONES: &str = "伟玮炜维 强蔷 磊垒 军君均 勇永涌 杰洁捷 涛韬 明鸣铭名 超潮 刚钢 平萍苹 斌彬 \
    辉晖徽 峰锋丰 东冬 宏鸿红洪 健建 俊骏峻 亮良 华桦 林琳霖 新欣鑫 锋峰 利丽力 民敏 国帼 永勇 春椿 \
    文雯 学雪 德得 福富 贵桂 荣蓉容 发法 生升 忠中 成诚程 祥翔 山珊 宝保 兴星 昌常 志智芝 庆卿 全泉权 \
    有友 才财 树淑 义艺毅 财才 廷庭婷 富福 云芸 家佳嘉 玉钰裕 友有 青清晴 秀绣 英瑛 桂贵 珍真贞 凤风 \
    淑舒 翠萃 梅玫 琴勤芹 莲连 花华 霞侠 素苏 彩采 爱艾 香湘 月悦越 冬东 美梅 贞珍 丽莉俪 红虹宏 敏民 \
    燕艳雁 艳燕 娟鹃 静婧靖 芳方 玲铃苓 莉丽 萍平 娜那 慧惠蕙 琳林霖 雪学 晶菁 浩皓昊 宇雨语禹 鑫欣新 \
    鹏朋 凯楷恺 博波 晨辰宸 旭绪 飞菲 佳家嘉 鸿宏 毅义艺 坤昆 婷亭庭 倩茜 悦月越 欣新馨 怡宜仪 颖莹瑛 \
    璐露路 蕾磊 媛元源 瑶遥 洁杰婕 雯文 梦孟 莹颖滢 蓉荣容 茜倩 薇微 楠南 子紫梓 轩萱宣 梓子紫 然冉 \
    睿瑞 泽择 铭明鸣 一依 辰晨 熙希 瑞睿 逸毅艺 航杭 宸晨 皓浩 锦金瑾 沐木牧 奕亦 承成诚 宁凝 昊浩 \
    煜昱 嘉佳家 涵寒含 诗师 雨语宇 萱轩宣 可珂 馨欣 思斯 语雨 依怡伊 紫子 雅亚 妍研 溪熙希 汐夕 芷芝 \
    彤桐童 婉宛 琪琦淇 张章 王汪 刘柳 杨阳 吴伍 徐许 许徐 何贺 贺何 肖萧 付傅 于余 余于 程成 魏卫 \
    卢鲁 陆路 姜江 江姜 蒋江 石史 史石 钟仲 严颜 闫严 尹殷 袁元 龚宫 戴代 冯封 姚尧 范凡 汪王 黎李 \
    谭檀 韩寒";

/// Groups of characters, the first one followed by characters that look like it (misread
/// handwriting, a wrong pick in a stroke-based input method).
const LOOKALIKES: &str = "己已 已己 未末 末未 王玉 玉王 永水 水永 民氏 伟传 广厂 廷延 成戍 祥样 发友 \
    友发 金全 全金 春舂 爱受 怡恰 颖颍 沐沭 奕弈 昊吴 吴昊 锦绵 瑞端 思恩 紫柴 若苦 雨两 馨磬 轩轨 \
    阳阴 琪棋 妍研 泽择 薇微 梅海 海梅 新亲 超起 财材 博傅 帅师 刚冈 军车 贵责 珍玲 玲珍 晶品 莹萤 \
    悦说 龙尤 李季 杨扬 凤风 辉挥 峰蜂 涛祷 俊竣 健键 波坡 凯岂 佳桂 婷停 欣炊 璐路 蕾雷 媛缓 瑶摇 \
    洁诘 慧彗 蓉容 楠南 然燃 诺若 熙照 承丞 宁宇 煜昱 嘉喜 涵函 诗侍 萱宣 语悟 依衣 雅鸦 溪奚 彤肜 \
    婉碗 德徳 福幅 兴共 庆厌 才寸 根跟 家冢 喜嘉 桂佳 淑叔 翠萃 莲连 花化 霞暇 素索 彩采 娥俄 巧功 \
    美姜 贞员 群郡 银很 焕换 荷何 勇男 平乎 娜哪 琳淋 雪雷 宇字 任仟 卢芦 沈沉 崔催 谭潭 范苑 汪江 \
    石右 贾贯 夏复 方万 白百 孟盂 侯候 江汪 雷雪 史吏 毛手 万方 武式 戴载 汤场 洪供 辛幸 牛午 梁粱 \
    余佘 于干 杜社 田由 袁哀 唐庸 曹曾 徐涂 陈阵 何河";

/// Polyphonic surnames and what a clerk writes on hearing or reading them: 曾 (Zēng, read céng
/// elsewhere) as 增 or 层, 覃 (Qín, often misread Tán) as 秦 or 谭; and the other way round,
/// 谢 written 解 (read Xiè as a surname), 秦 as 覃, 邱 as 仇 (Qiú), 岳 as 乐 (Yuè).
const POLYPHONIC: &str = "曾增层 覃秦谭 谢解 秦覃 邱仇 岳乐";

/// Toneless pinyin of every character of the name generator, in its reading as a name
/// (surnames in their surname reading: 曾 zeng, 覃 qin; `ü` written `v` as on a keyboard), after
/// the pinyin-data tables (mozillazg), checked by hand. Sorted by character.
const PINYIN: &str = "一yi 丁ding 万wan 上shang 东dong 严yan 丹dan 丽li 义yi 乔qiao 于yu 云yun 亮liang 付fu 任ren 伟wei 何he \
    余yu 佳jia 依yi 侯hou 俊jun 倩qian 健jian 全quan 兰lan 兴xing 军jun 冬dong 冯feng 凤feng 凯kai 刘liu \
    刚gang 利li 勇yong 华hua 博bo 卢lu 友you 发fa 可ke 史shi 叶ye 司si 向xiang 吕lv 吴wu 周zhou 唐tang 喜xi \
    嘉jia 国guo 坤kun 夏xia 奕yi 妍yan 姚yao 姜jiang 娜na 娟juan 娥e 婉wan 婷ting 媛yuan 子zi 孔kong 孙sun \
    孟meng 学xue 宁ning 宇yu 安an 宋song 宏hong 官guan 宝bao 家jia 宸chen 富fu 小xiao 尹yin 山shan 岳yue \
    峰feng 崔cui 巧qiao 帅shuai 常chang 平ping 广guang 庆qing 康kang 廖liao 廷ting 建jian 张zhang 强qiang \
    彤tong 彩cai 彭peng 徐xu 德de 志zhi 忠zhong 思si 怡yi 悦yue 慧hui 成cheng 戴dai 才cai 承cheng 振zhen \
    敏min 文wen 斌bin 新xin 方fang 施shi 旭xu 昊hao 昌chang 明ming 易yi 春chun 晨chen 晶jing 曹cao 曾zeng \
    月yue 有you 朱zhu 李li 杜du 杨yang 杰jie 林lin 柴chai 树shu 根gen 桂gui 梁liang 梅mei 梓zi 梦meng 楠nan \
    樊fan 欣xin 欧ou 武wu 段duan 毅yi 毛mao 民min 水shui 永yong 汐xi 江jiang 汤tang 汪wang 沈shen 沐mu 波bo \
    泽ze 洁jie 洪hong 浩hao 海hai 涛tao 涵han 淑shu 溪xi 潘pan 焕huan 然ran 煜yu 熊xiong 熙xi 燕yan 爱ai 牛niu \
    玉yu 王wang 玲ling 珍zhen 琪qi 琳lin 琴qin 瑞rui 瑶yao 璐lu 生sheng 田tian 白bai 皓hao 睿rui 石shi 磊lei \
    祥xiang 福fu 秀xiu 秦qin 程cheng 素su 紫zi 红hong 罗luo 美mei 群qun 翠cui 肖xiao 胡hu 航hang 艳yan 芬fen \
    花hua 芳fang 芷zhi 苏su 若ruo 英ying 范fan 茜qian 荣rong 荷he 莉li 莫mo 莲lian 莹ying 菊ju 萍ping 萱xuan \
    葛ge 董dong 蒋jiang 蓉rong 蔡cai 蕾lei 薇wei 薛xue 袁yuan 覃qin 许xu 诗shi 语yu 诸zhu 诺nuo 谢xie 谭tan \
    贞zhen 财cai 贵gui 贺he 贾jia 赖lai 赵zhao 超chao 轩xuan 辉hui 辛xin 辰chen 逸yi 邓deng 邱qiu 邵shao \
    邹zou 郑zheng 郝hao 郭guo 金jin 鑫xin 钟zhong 钱qian 铭ming 银yin 锋feng 锦jin 长chang 闫yan 阳yang 阿a \
    陆lu 陈chen 陶tao 雅ya 雨yu 雪xue 雯wen 雷lei 霞xia 青qing 静jing 韦wei 韩han 顾gu 颖ying 飞fei 香xiang \
    馨xin 马ma 高gao 魏wei 鸿hong 鹏peng 黄huang 黎li 齐qi 龙long 龚gong";

/// What follows `c` in its group of a table, if `c` heads one.
fn alternatives(table: &'static str, c: char) -> Option<&'static str> {
    table.split_whitespace().find(|group| group.starts_with(c)).map(|group| &group[c.len_utf8()..])
}

/// A name's surname (compound ones included) and given name.
pub(crate) fn split_name(name: &str) -> (&str, &str) {
    let compound = SURNAMES.iter().map(|&(s, _)| s).find(|s| s.chars().count() == 2 && name.starts_with(s));
    let at = compound.map_or_else(|| name.chars().next().map_or(0, char::len_utf8), str::len);
    name.split_at(at)
}

/// `name` with one character replaced by an alternative from `table`; the given name is hit
/// three times as often as the surname, which people spell out more carefully.
fn substitute(rng: &mut impl Rng, name: &str, table: &'static str) -> Option<String> {
    let surname_chars = split_name(name).0.chars().count();
    let weights: Vec<u32> = name
        .chars()
        .enumerate()
        .map(|(i, c)| match alternatives(table, c) {
            None => 0,
            Some(_) if i < surname_chars => 1,
            Some(_) => 3,
        })
        .collect();
    let total: u32 = weights.iter().sum();
    if total == 0 {
        return None;
    }
    let mut x = rng.random_range(0..total);
    let at = weights.iter().position(|&w| {
        let hit = x < w;
        x = x.saturating_sub(w);
        hit
    })?;
    let choices: Vec<char> = alternatives(table, name.chars().nth(at)?)?.chars().collect();
    let replacement = choices[rng.random_range(0..choices.len())];
    Some(name.chars().enumerate().map(|(i, c)| if i == at { replacement } else { c }).collect())
}

/// One character replaced by a homophone: 李明 → 李铭, 张伟 → 章伟.
pub(crate) fn homophone(rng: &mut impl Rng, name: &str) -> Option<String> {
    substitute(rng, name, HOMOPHONES)
}

/// One character replaced by a look-alike: 王玉兰 → 玉玉兰, 李永 → 李水.
pub(crate) fn lookalike(rng: &mut impl Rng, name: &str) -> Option<String> {
    substitute(rng, name, LOOKALIKES)
}

/// Whether [`polyphonic`] applies to `name`.
pub(crate) fn has_polyphonic_surname(name: &str) -> bool {
    let (surname, _) = split_name(name);
    surname.chars().count() == 1 && surname.chars().next().and_then(|c| alternatives(POLYPHONIC, c)).is_some()
}

/// The surname written as another character of the same reading: 曾伟 → 增伟, 覃丽 → 谭丽.
pub(crate) fn polyphonic(rng: &mut impl Rng, name: &str) -> Option<String> {
    let (surname, given) = split_name(name);
    if surname.chars().count() != 1 {
        return None;
    }
    let choices: Vec<char> = alternatives(POLYPHONIC, surname.chars().next()?)?.chars().collect();
    let mut out = String::with_capacity(name.len());
    out.push(choices[rng.random_range(0..choices.len())]);
    out.push_str(given);
    Some(out)
}

/// The toneless pinyin of one character as a name reading (曾 zeng, 覃 qin), if known.
pub(crate) fn pinyin_of(c: char) -> Option<&'static str> {
    alternatives(PINYIN, c)
}

/// The name in pinyin only, as typed when the input method failed or for a card reader's Latin
/// field: `Zhang Weiming`, `ZHANG WEIMING` or `zhangweiming`.
pub(crate) fn pinyin(rng: &mut impl Rng, name: &str) -> Option<String> {
    let (surname, given) = split_name(name);
    let spell = |part: &str| -> Option<String> { part.chars().map(pinyin_of).collect() };
    let (surname, given) = (spell(surname)?, spell(given)?);
    Some(match rng.random_range(0..20) {
        0..10 => format!("{} {}", capitalised(&surname), capitalised(&given)),
        10..17 => format!("{} {}", surname.to_ascii_uppercase(), given.to_ascii_uppercase()),
        _ => format!("{surname}{given}"),
    })
}

fn capitalised(s: &str) -> String {
    let mut out = s.to_owned();
    if let Some(first) = out.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    out
}

/// The surname with a pet name (小名) made of the given name's last character: 李建明 → 李小明,
/// 李明明 or 李阿明 (婷婷 becomes 小婷, never 婷婷婷).
pub(crate) fn nickname(rng: &mut impl Rng, name: &str) -> Option<String> {
    let (surname, given) = split_name(name);
    let last = given.chars().last()?;
    let doubled = given.chars().count() == 2 && given.starts_with(last);
    let pet = match rng.random_range(0..10) {
        0..5 => format!("小{last}"),
        5..9 if !doubled => format!("{last}{last}"),
        5..9 => format!("小{last}"),
        _ => format!("阿{last}"),
    };
    (pet != given).then(|| format!("{surname}{pet}"))
}

/// The date with day and month swapped, when that is another valid date (1980-03-05 →
/// 1980-05-03).
pub(crate) fn swap_day_month(date: NaiveDate) -> Option<NaiveDate> {
    if date.day() == date.month() {
        return None;
    }
    NaiveDate::from_ymd_opt(date.year(), date.day(), date.month())
}

/// One digit of the number replaced by another (the 18th character included when it is a
/// digit).
pub(crate) fn mistype_digit(rng: &mut impl Rng, number: &str) -> String {
    let digits: Vec<usize> =
        number.bytes().enumerate().filter(|(_, b)| b.is_ascii_digit()).map(|(i, _)| i).collect();
    let at = digits[rng.random_range(0..digits.len())];
    let mut bytes = number.as_bytes().to_vec();
    let old = bytes[at] - b'0';
    bytes[at] = b'0' + (old + rng.random_range(1..10)) % 10;
    String::from_utf8(bytes).expect("ASCII digits")
}

/// Two adjacent different digits swapped, if the number has any.
pub(crate) fn transpose(rng: &mut impl Rng, number: &str) -> Option<String> {
    let b = number.as_bytes();
    let pairs: Vec<usize> = (0..b.len().saturating_sub(1))
        .filter(|&i| b[i].is_ascii_digit() && b[i + 1].is_ascii_digit() && b[i] != b[i + 1])
        .collect();
    if pairs.is_empty() {
        return None;
    }
    let at = pairs[rng.random_range(0..pairs.len())];
    let mut bytes = b.to_vec();
    bytes.swap(at, at + 1);
    Some(String::from_utf8(bytes).expect("ASCII digits"))
}

/// The 15-digit GB 11643-1989 form of an 18-character number of someone born in the 1900s:
/// area, two-digit year, month, day, sequence; no check character.
pub(crate) fn fifteen_digit(number: &str) -> Option<String> {
    (number.len() == 18 && number.is_ascii() && &number[6..8] == "19")
        .then(|| format!("{}{}", &number[..6], &number[8..17]))
}
