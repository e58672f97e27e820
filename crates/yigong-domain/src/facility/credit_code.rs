//! GB 32100-2015 unified social credit code (统一社会信用代码): 18 characters from a
//! 31-character alphabet, the last a MOD 31 check.

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// The check character for the first 17 characters, or `None` if one is outside the alphabet.
pub fn credit_code_check_char(first17: &str) -> Option<char> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in first17.bytes().zip(WEIGHTS) {
        sum += value(c)? * w;
    }
    let check = (31 - sum % 31) % 31;
    Some(ALPHABET[check as usize] as char)
}

/// Whether `code` is a well-formed credit code with a matching check character.
pub fn valid_credit_code(code: &str) -> bool {
    code.len() == 18
        && code.is_ascii()
        && credit_code_check_char(&code[..17]).is_some_and(|c| code.as_bytes()[17] == c as u8)
}
