//! Case-insensitive header lookup over whatever map the caller already has.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

/// A header name: static for the built-in schemes, owned for configured ones.
pub type HeaderName = Cow<'static, str>;

/// Read access to request headers. Lookups are ASCII case-insensitive, as HTTP requires.
///
/// Implemented for slices, arrays and `Vec`s of `(name, value)` pairs and for `HashMap`/`BTreeMap`
/// keyed by name. When a name occurs more than once, the first occurrence wins.
pub trait Headers {
    /// The value of the header `name`, compared without regard to ASCII case.
    fn get(&self, name: &str) -> Option<&str>;
}

fn find<'a, K, V>(mut pairs: impl Iterator<Item = (&'a K, &'a V)>, name: &str) -> Option<&'a str>
where
    K: AsRef<str> + 'a + ?Sized,
    V: AsRef<str> + 'a + ?Sized,
{
    pairs
        .find(|(k, _)| {
            // The exact spelling first: a plain comparison, and the common case.
            let k = k.as_ref();
            k.len() == name.len() && (k == name || k.eq_ignore_ascii_case(name))
        })
        .map(|(_, v)| v.as_ref())
}

impl<K: AsRef<str>, V: AsRef<str>> Headers for [(K, V)] {
    fn get(&self, name: &str) -> Option<&str> {
        find(self.iter().map(|(k, v)| (k, v)), name)
    }
}

impl<K: AsRef<str>, V: AsRef<str>, const N: usize> Headers for [(K, V); N] {
    fn get(&self, name: &str) -> Option<&str> {
        Headers::get(self.as_slice(), name)
    }
}

impl<K: AsRef<str>, V: AsRef<str>> Headers for Vec<(K, V)> {
    fn get(&self, name: &str) -> Option<&str> {
        Headers::get(self.as_slice(), name)
    }
}

impl<K: AsRef<str>, V: AsRef<str>, S> Headers for HashMap<K, V, S> {
    fn get(&self, name: &str) -> Option<&str> {
        find(self.iter(), name)
    }
}

impl<K: AsRef<str>, V: AsRef<str>> Headers for BTreeMap<K, V> {
    fn get(&self, name: &str) -> Option<&str> {
        find(self.iter(), name)
    }
}

impl<H: Headers + ?Sized> Headers for &H {
    fn get(&self, name: &str) -> Option<&str> {
        (**self).get(name)
    }
}

/// The non-empty, trimmed value of a header.
pub(crate) fn value<'h>(headers: &'h dyn Headers, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .map(|v| v.trim_matches([' ', '\t']))
        .filter(|v| !v.is_empty())
}

/// Whether `name` is a valid HTTP header name (an RFC 9110 token).
pub(crate) fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_ignores_case_and_takes_the_first() {
        let h = [("X-A", "1"), ("x-a", "2"), ("Other", "3")];
        assert_eq!(h.get("x-A"), Some("1"));
        assert_eq!(h.get("missing"), None);
        let m: HashMap<String, String> = [("Content-Type".to_owned(), "x".to_owned())].into();
        assert_eq!(Headers::get(&m, "content-type"), Some("x"));
        let b: BTreeMap<&str, &str> = [("X-B", "y")].into();
        assert_eq!(Headers::get(&b, "x-b"), Some("y"));
    }

    #[test]
    fn empty_and_blank_values_count_as_missing() {
        let h = [("a", ""), ("b", "  "), ("c", " v ")];
        assert_eq!(value(&h, "a"), None);
        assert_eq!(value(&h, "b"), None);
        assert_eq!(value(&h, "c"), Some("v"));
    }

    #[test]
    fn header_names_are_tokens() {
        assert!(is_valid_name("X-Webhook-Hmac"));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name("bad name"));
        assert!(!is_valid_name("x:y"));
    }
}
