//! Keys as file names: a reversible, case-safe encoding.

/// The longest key this adapter stores, in bytes (as S3's object keys): its encoded path stays
/// within the operating system's limits.
pub const MAX_KEY_BYTES: usize = 1024;

/// The longest file or directory name the encoding makes, in bytes (file systems allow 255).
pub(crate) const MAX_COMPONENT_BYTES: usize = 200;

/// The longest path (root included) this adapter opens; Linux allows 4096 bytes.
pub(crate) const MAX_PATH_BYTES: usize = 4000;

/// Lock files: a key's saves and deletes lock one of these.
pub(crate) const LOCK_STRIPES: u32 = 64;

/// Names the adapter keeps for itself start with this; encoded keys never do.
pub(crate) const OWN_NAME_PREFIX: char = '~';

/// The directory of lock files.
pub(crate) const LOCK_DIR: &str = "~locks";

/// Deepest directory the listing descends into (encoded keys need at most 16 levels).
pub(crate) const MAX_DEPTH: usize = 32;

/// The file name (a path relative to the adapter's directory, `/`-separated) that holds `key`.
///
/// Reversible ([`decode_path`]) and safe for any key: the result holds only `a-z 0-9 - . _ % +
/// /`, so no key can name another directory, a hidden file or one of the adapter's own files, and
/// two keys that differ only in case never share a name on a case-insensitive file system.
///
/// ```
/// use persistence_file::{decode_path, encode_key};
/// assert_eq!(encode_key("amzn1.ask.account.AB"), "amzn1.ask.account._a_b.json");
/// assert_eq!(encode_key("a/b é"), "a%2fb%20%c3%a9.json");
/// assert_eq!(decode_path("a%2fb%20%c3%a9.json").as_deref(), Some("a/b é"));
/// ```
pub fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 8);
    let mut component = 0;
    for b in key.bytes() {
        let token_len = match b {
            b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' => 1,
            b'A'..=b'Z' => 2,
            _ => 3,
        };
        if component + token_len > MAX_COMPONENT_BYTES {
            out.push_str("+/");
            component = 0;
        }
        match token_len {
            1 => out.push(char::from(b)),
            2 => {
                out.push('_');
                out.push(char::from(b.to_ascii_lowercase()));
            }
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
        component += token_len;
    }
    out.push_str(".json");
    out
}

/// The key a file name made by [`encode_key`] holds, or `None` when `relative` is not exactly
/// what [`encode_key`] makes for some key (a file someone else put there).
///
/// ```
/// use persistence_file::decode_path;
/// assert_eq!(decode_path("user-1.json").as_deref(), Some("user-1"));
/// assert_eq!(decode_path("User-1.json"), None); // never made by encode_key
/// assert_eq!(decode_path("notes.txt"), None);
/// ```
pub fn decode_path(relative: &str) -> Option<String> {
    let body = relative.strip_suffix(".json")?;
    let parts: Vec<&str> = body.split('/').collect();
    let mut bytes = Vec::with_capacity(body.len());
    for (i, part) in parts.iter().enumerate() {
        let part = if i + 1 < parts.len() {
            part.strip_suffix('+')?
        } else {
            part
        };
        let mut it = part.bytes();
        while let Some(b) = it.next() {
            match b {
                b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' => bytes.push(b),
                b'_' => match it.next()? {
                    c @ b'a'..=b'z' => bytes.push(c.to_ascii_uppercase()),
                    _ => return None,
                },
                b'%' => {
                    let hi = hex_value(it.next()?)?;
                    let lo = hex_value(it.next()?)?;
                    bytes.push(hi << 4 | lo);
                }
                _ => return None,
            }
        }
    }
    let key = String::from_utf8(bytes).ok()?;
    (encode_key(&key) == relative).then_some(key)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips_and_is_case_safe() {
        for key in [
            "amzn1.ask.account.AGF7EXAMPLE",
            "a",
            "UPPER lower 0-9 ._-~+%/\\",
            "ключ 🔑",
            "..",
            ".hidden",
            "~tmp-looks-like-ours",
            "con",
        ] {
            let enc = encode_key(key);
            assert!(
                enc.bytes()
                    .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'%' | b'+' | b'/')),
                "{enc}"
            );
            assert!(!enc.starts_with(OWN_NAME_PREFIX), "{enc}");
            assert_eq!(decode_path(&enc).as_deref(), Some(key), "{enc}");
        }
        assert_ne!(
            encode_key("Ab").to_lowercase(),
            encode_key("aB").to_lowercase()
        );
    }

    #[test]
    fn long_keys_are_cut_into_directories_without_splitting_escapes() {
        let key = format!("{}{}", "é".repeat(300), "A".repeat(150));
        let enc = encode_key(&key);
        let parts: Vec<&str> = enc.split('/').collect();
        assert!(parts.len() > 3, "{}", parts.len());
        for (i, p) in parts.iter().enumerate() {
            assert!(p.len() <= MAX_COMPONENT_BYTES + 5, "{p}");
            if i + 1 < parts.len() {
                assert!(p.ends_with('+'));
            }
        }
        assert_eq!(decode_path(&enc).as_deref(), Some(key.as_str()));
    }

    #[test]
    fn foreign_names_are_not_keys() {
        for name in [
            "a+.json",
            "A.json",
            "a_B.json",
            "a%2F.json",
            "a%zz.json",
            "a%2.json",
            "a.txt",
            "dir/a.json",
            "dir+/a.json", // a short key never lives in a directory
            "%ff.json",    // not UTF-8
        ] {
            assert_eq!(decode_path(name), None, "{name}");
        }
    }
}
