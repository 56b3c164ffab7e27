//! Bytes (digests, key identifiers, serials, r and s) stay bytes; they are written as
//! lowercase hex only when serialised: `#[serde(with = "hexbytes")]` on a `[u8; N]` or a
//! `Vec<u8>`, `hexbytes::option` on an `Option` of one (`null` when absent), and
//! `hexbytes::or_empty` where absence is written as `""`. Reading back accepts exactly what
//! is written: lowercase hex digits, of the array's length.
use serde::de::{Deserializer, Error, Visitor};
use serde::Serializer;
use std::fmt;
use std::marker::PhantomData;

/// Bytes that can be read back from their hex form.
pub trait FromHex: Sized {
    /// `None` unless `text` is lowercase hex of a length this type holds.
    fn from_hex(text: &str) -> Option<Self>;
}

/// Lowercase hex digits only (no prefix, no uppercase), an even number of them.
fn digits(text: &str) -> Option<&str> {
    (text.len().is_multiple_of(2) && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then_some(text)
}

impl<const N: usize> FromHex for [u8; N] {
    fn from_hex(text: &str) -> Option<Self> {
        hex::decode_to_array(digits(text)?).ok()
    }
}

/// No bytes (`""`) is `None`.
impl<T: FromHex> FromHex for Option<T> {
    fn from_hex(text: &str) -> Option<Self> {
        if text.is_empty() {
            Some(None)
        } else {
            T::from_hex(text).map(Some)
        }
    }
}

impl FromHex for Vec<u8> {
    fn from_hex(text: &str) -> Option<Self> {
        hex::decode(digits(text)?).ok()
    }
}

/// Writes `bytes` as lowercase hex (without allocating, up to 64 bytes).
pub fn serialize<S: Serializer>(bytes: &impl AsRef<[u8]>, s: S) -> Result<S::Ok, S::Error> {
    let bytes = bytes.as_ref();
    let mut buf = [0u8; 128];
    match buf.get_mut(..bytes.len() * 2) {
        Some(out) => {
            hex::encode_to_slice(bytes, out).expect("twice the length");
            s.serialize_str(std::str::from_utf8(out).expect("hex is ASCII"))
        }
        None => s.serialize_str(&hex::encode(bytes)),
    }
}

/// Reads what [`serialize`] wrote.
pub fn deserialize<'de, D: Deserializer<'de>, T: FromHex>(d: D) -> Result<T, D::Error> {
    d.deserialize_str(HexVisitor(PhantomData))
}

struct HexVisitor<T>(PhantomData<T>);

impl<T: FromHex> Visitor<'_> for HexVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("lowercase hex")
    }
    fn visit_str<E: Error>(self, text: &str) -> Result<T, E> {
        T::from_hex(text).ok_or_else(|| {
            E::custom(format!(
                "not lowercase hex of the expected length: {text:?}"
            ))
        })
    }
}

/// An optional value: `null` when absent.
pub mod option {
    use super::FromHex;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        bytes: &Option<impl AsRef<[u8]>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => super::serialize(b, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: FromHex>(d: D) -> Result<Option<T>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap<T: FromHex>(#[serde(deserialize_with = "super::deserialize")] T);
        Ok(Option::<Wrap<T>>::deserialize(d)?.map(|w| w.0))
    }
}

/// An optional value written as `""` when absent (the hex of no bytes).
pub mod or_empty {
    use serde::Serializer;

    pub fn serialize<S: Serializer>(
        bytes: &Option<impl AsRef<[u8]>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        super::serialize(&bytes.as_ref().map_or(&[][..], AsRef::as_ref), s)
    }

    /// `""` reads as `None` (see [`FromHex`](super::FromHex) for `Option`).
    pub use super::deserialize;
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct T {
        #[serde(with = "super")]
        a: [u8; 2],
        #[serde(with = "super")]
        v: Vec<u8>,
        #[serde(with = "super::option")]
        o: Option<Vec<u8>>,
        #[serde(with = "super::option")]
        n: Option<[u8; 1]>,
        #[serde(with = "super::or_empty")]
        e: Option<[u8; 1]>,
        #[serde(with = "super::or_empty")]
        f: Option<[u8; 1]>,
    }

    #[test]
    fn written_as_lowercase_hex_and_read_back_exactly() {
        let t = T {
            a: [0xab, 0x01],
            v: vec![0xff; 70],
            o: Some(vec![]),
            n: None,
            e: None,
            f: Some([0x0c]),
        };
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(
            json,
            format!(
                r#"{{"a":"ab01","v":"{}","o":"","n":null,"e":"","f":"0c"}}"#,
                "ff".repeat(70)
            )
        );
        assert_eq!(serde_json::from_str::<T>(&json).unwrap(), t);
        for bad in ["AB01", "0xab01", "ab0", "ab0102", "ab0g", ""] {
            let edited = json.replacen("\"ab01\"", &format!("{bad:?}"), 1);
            assert!(serde_json::from_str::<T>(&edited).is_err(), "{bad:?} read");
        }
    }
}
