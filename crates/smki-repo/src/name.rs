//! File names kept exactly as the file system gives them ([`FileName`]), and the names of
//! the files in a tree output ([`tree_file_name`], shared by the writer and the audit).
//! docs/outputs.md, "File names".
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The name of a file a record came from, as given on the command line or found in a
/// directory: its exact bytes on Unix (not necessarily UTF-8), `-` for stdin. Two names that
/// differ only in bytes that are not UTF-8 are two names.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileName(Arc<OsStr>);

impl FileName {
    pub fn as_os_str(&self) -> &OsStr {
        &self.0
    }
    pub fn as_path(&self) -> &Path {
        Path::new(&*self.0)
    }
    /// The name's bytes (on Unix, exactly the file system's).
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_encoded_bytes()
    }
    /// The name, when it is UTF-8.
    pub fn to_str(&self) -> Option<&str> {
        self.0.to_str()
    }
    /// Is the name UTF-8?
    pub fn is_utf8(&self) -> bool {
        self.to_str().is_some()
    }
    /// The name as text: UTF-8 as it is, each byte that is not UTF-8 written `\xNN` (lower
    /// case hex). Lossless for names without a `\x` of their own; [`FileName::as_bytes`] (in
    /// JSON `file_bytes_hex`) is always exact.
    pub fn escaped(&self) -> Cow<'_, str> {
        match self.to_str() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(escape_bytes(self.as_bytes())),
        }
    }
    /// Does the name end with `suffix` (bytes)?
    pub fn ends_with(&self, suffix: &str) -> bool {
        self.as_bytes().ends_with(suffix.as_bytes())
    }
    /// The name from its exact bytes.
    pub fn from_bytes(bytes: &[u8]) -> FileName {
        FileName(Arc::from(os_str_from_bytes(bytes).as_os_str()))
    }
}

/// Text for bytes: UTF-8 as it is, every other byte `\xNN`.
fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(unix)]
fn os_str_from_bytes(bytes: &[u8]) -> OsString {
    use std::os::unix::ffi::OsStrExt;
    OsStr::from_bytes(bytes).to_os_string()
}

#[cfg(not(unix))]
fn os_str_from_bytes(bytes: &[u8]) -> OsString {
    OsString::from(String::from_utf8_lossy(bytes).into_owned())
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.escaped())
    }
}

impl fmt::Debug for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.escaped(), f)
    }
}

impl From<&str> for FileName {
    fn from(s: &str) -> FileName {
        FileName(Arc::from(OsStr::new(s)))
    }
}
impl From<String> for FileName {
    fn from(s: String) -> FileName {
        FileName::from(s.as_str())
    }
}
impl From<&String> for FileName {
    fn from(s: &String) -> FileName {
        FileName::from(s.as_str())
    }
}
impl From<Arc<str>> for FileName {
    fn from(s: Arc<str>) -> FileName {
        FileName::from(&*s)
    }
}
impl From<&Arc<str>> for FileName {
    fn from(s: &Arc<str>) -> FileName {
        FileName::from(&**s)
    }
}
impl From<&Path> for FileName {
    fn from(p: &Path) -> FileName {
        FileName(Arc::from(p.as_os_str()))
    }
}
impl From<PathBuf> for FileName {
    fn from(p: PathBuf) -> FileName {
        FileName::from(p.as_path())
    }
}
impl From<&FileName> for FileName {
    fn from(f: &FileName) -> FileName {
        f.clone()
    }
}
impl PartialEq<str> for FileName {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl PartialEq<&str> for FileName {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl PartialEq<String> for FileName {
    fn eq(&self, other: &String) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl AsRef<Path> for FileName {
    fn as_ref(&self) -> &Path {
        self.as_path()
    }
}

/// How a [`crate::Locator`] is written in JSON: `file` the name as text
/// ([`FileName::escaped`]), and, only for a name that is not UTF-8, `file_bytes_hex`: its
/// exact bytes.
#[derive(Serialize, Deserialize)]
pub(crate) struct LocatorRepr {
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_bytes_hex: Option<String>,
    pub record: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub offset: usize,
}

impl From<crate::Locator> for LocatorRepr {
    fn from(l: crate::Locator) -> LocatorRepr {
        LocatorRepr {
            file: l.file.escaped().into_owned(),
            file_bytes_hex: (!l.file.is_utf8()).then(|| hex::encode(l.file.as_bytes())),
            record: l.record,
            line: l.line,
            offset: l.offset,
        }
    }
}

impl TryFrom<LocatorRepr> for crate::Locator {
    type Error = String;
    fn try_from(r: LocatorRepr) -> Result<crate::Locator, String> {
        let file = match &r.file_bytes_hex {
            Some(h) => {
                let bytes = hex::decode(h).map_err(|e| format!("file_bytes_hex: {e}"))?;
                let name = FileName::from_bytes(&bytes);
                if name.escaped() != r.file {
                    return Err("file is not the text of file_bytes_hex".into());
                }
                name
            }
            None => FileName::from(r.file),
        };
        Ok(crate::Locator {
            file,
            record: r.record,
            line: r.line,
            offset: r.offset,
        })
    }
}

/// The hex digits of the SHA-256 in a [`tree_file_name`].
pub const TREE_NAME_SHA256_HEX: usize = 16;

/// Records per directory of a tree written from a dump that is not a tree
/// ([`tree_file_name`]).
pub const TREE_FILES_PER_DIR: u64 = 10_000;

/// The relative path, without its extension, of the file that holds record `index` (its
/// 0-based position in the input dump) in a tree written from a dump that is not a tree (a
/// file, stdin, an extract): `DDDDDD/IIIIIIIIII-SERIAL-SHA` with `DDDDDD` the index divided
/// by [`TREE_FILES_PER_DIR`], `IIIIIIIIII` the index (10 digits, so that the tree reads
/// back in the input's order), `SERIAL` the certificate's serial in hex (`noserial` when it
/// does not read) and `SHA` the first [`TREE_NAME_SHA256_HEX`] hex digits of the SHA-256 of
/// the DER written (`der`). Unique by the index; the serial and hash are for people. The
/// one naming function: the writer names files with it, the audit checks names with it.
pub fn tree_file_name(index: u64, der: &[u8]) -> PathBuf {
    let serial = smki_x509::CertView::split(der)
        .ok()
        .and_then(|v| smki_x509::Fields::parse(&v).ok())
        .map(|f| f.serial_hex())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "noserial".into());
    let sha = hex::encode(smki_x509::sha256(der));
    PathBuf::from(format!(
        "{:06}/{index:010}-{serial}-{}",
        index / TREE_FILES_PER_DIR,
        &sha[..TREE_NAME_SHA256_HEX]
    ))
}

/// The serial an extract row lists for a certificate that came without one (from a dump
/// that is not an extract): the serial's content octets in lower-case hex, as
/// [`smki_x509::Fields::serial_hex`]. None when the certificate does not read.
pub fn serial_text(der: &[u8]) -> Option<String> {
    let view = smki_x509::CertView::split(der).ok()?;
    let fields = smki_x509::Fields::parse(&view).ok()?;
    Some(fields.serial_hex()).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_are_not_utf8() {
        let a = FileName::from_bytes(b"a\xff.der");
        let b = FileName::from_bytes(b"a\xfe.der");
        assert_ne!(a, b);
        assert_eq!(a.to_string(), "a\\xff.der");
        let loc = crate::Locator {
            file: a.clone(),
            record: 1,
            line: None,
            offset: 7,
        };
        let json = serde_json::to_string(&loc).unwrap();
        assert_eq!(
            json,
            r#"{"file":"a\\xff.der","file_bytes_hex":"61ff2e646572","record":1,"offset":7}"#
        );
        let back: crate::Locator = serde_json::from_str(&json).unwrap();
        assert_eq!(back, loc);
        let utf8 = crate::Locator {
            file: "b.der".into(),
            ..loc
        };
        assert_eq!(
            serde_json::to_string(&utf8).unwrap(),
            r#"{"file":"b.der","record":1,"offset":7}"#
        );
        // text that disagrees with the bytes does not read
        assert!(serde_json::from_str::<crate::Locator>(
            r#"{"file":"x","file_bytes_hex":"61ff","record":1,"offset":7}"#
        )
        .is_err());
    }
}
