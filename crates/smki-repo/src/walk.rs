//! Which files make a dump: the one directory walker ([`read_dir_tree`], with its
//! symlink-loop guard), [`open`] (every record of a file, a tree or stdin) and
//! [`dump_format`] (the shape of a dump, for writing another like it).
use crate::{read_extracts, Error, ErrorKind, Format, Locator, OutputFormat, Record, RecordReader};
use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

/// File name extensions of certificate files in a directory tree (case-insensitive).
pub const CERT_EXTENSIONS: &[&str] = &["der", "cer", "crt", "pem"];

/// The file name extension of extract files in a directory tree (case-insensitive): a full
/// extract (`full-*`) and its deltas.
pub const EXTRACT_EXTENSION: &str = "csv";

/// The records of one dump, in order.
pub type Records = Box<dyn Iterator<Item = Result<Record, Error>> + Send>;

/// An error about a whole file or directory (record 0, byte 0).
fn file_error(path: &Path, kind: ErrorKind) -> Error {
    Error::new(
        kind,
        Locator {
            file: path.into(),
            record: 0,
            line: None,
            offset: 0,
        },
    )
}

fn has_extension(path: &Path, extensions: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.iter().any(|c| c.eq_ignore_ascii_case(e)))
}

/// Whether a file found in a tree is an extract ([`EXTRACT_EXTENSION`]).
pub fn is_extract_file(path: &Path) -> bool {
    has_extension(path, &[EXTRACT_EXTENSION])
}

/// The dump files under `root`: certificate files ([`CERT_EXTENSIONS`]) and extract files
/// ([`EXTRACT_EXTENSION`]), depth first, in byte order of their names at every level (so
/// the order is stable across runs and machines). Symbolic links are followed; a link back
/// to a directory that contains it (a loop) is reported once, as
/// [`ErrorKind::SymlinkLoop`], and not followed; a directory reached a second time by
/// another link is reported ([`ErrorKind::AlreadyVisited`]) and not read again. Unreadable
/// directories and entries are errors; the walk goes on. Hidden temporary files of an
/// unfinished write (`.*.tmp*`) are skipped. When `root` is a file, yields just it.
pub fn read_dir_tree(root: &Path) -> DirTree {
    DirTree {
        stack: vec![(root.to_path_buf(), true)],
        seen: HashSet::new(),
    }
}

/// The iterator of [`read_dir_tree`]: one directory is listed at a time.
#[derive(Debug)]
pub struct DirTree {
    /// Paths still to visit, the next one last; the flag marks the root.
    stack: Vec<(PathBuf, bool)>,
    /// Canonical paths of the directories entered.
    seen: HashSet<PathBuf>,
}

impl Iterator for DirTree {
    type Item = Result<PathBuf, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        while let Some((path, is_root)) = self.stack.pop() {
            let meta = match fs::metadata(&path) {
                Ok(m) => m,
                Err(e) => return Some(Err(file_error(&path, ErrorKind::io(e)))),
            };
            if !meta.is_dir() {
                if !(is_root || has_extension(&path, CERT_EXTENSIONS) || is_extract_file(&path)) {
                    continue;
                }
                if !meta.is_file() {
                    return Some(Err(file_error(&path, ErrorKind::NotAFile)));
                }
                return Some(Ok(path));
            }
            let canonical = match fs::canonicalize(&path) {
                Ok(c) => c,
                Err(e) => return Some(Err(file_error(&path, ErrorKind::io(e)))),
            };
            if self.seen.contains(&canonical) {
                // A loop when the walk went through that directory to get here.
                let inside = path
                    .ancestors()
                    .skip(1)
                    .any(|a| fs::canonicalize(a).is_ok_and(|a| a == canonical));
                let kind = if inside {
                    ErrorKind::SymlinkLoop { target: canonical }
                } else {
                    ErrorKind::AlreadyVisited { target: canonical }
                };
                return Some(Err(file_error(&path, kind)));
            }
            self.seen.insert(canonical);
            let entries = match fs::read_dir(&path) {
                Ok(rd) => rd,
                Err(e) => return Some(Err(file_error(&path, ErrorKind::io(e)))),
            };
            let mut names = Vec::new();
            let mut errors = Vec::new();
            for entry in entries {
                match entry {
                    Ok(e) => {
                        let name = e.file_name();
                        let s = name.to_string_lossy();
                        if s.starts_with('.') && s.contains(".tmp") {
                            continue;
                        }
                        names.push(e.path());
                    }
                    Err(e) => errors.push(file_error(&path, ErrorKind::io(e))),
                }
            }
            names.sort_by(|a, b| {
                a.as_os_str()
                    .as_encoded_bytes()
                    .cmp(b.as_os_str().as_encoded_bytes())
            });
            self.stack
                .extend(names.into_iter().rev().map(|p| (p, false)));
            if let Some(e) = errors.into_iter().next() {
                return Some(Err(e));
            }
        }
        None
    }
}

/// Every record of a dump: a file (DER, PEM or extract, detected), a directory tree (see
/// [`read_dir_tree`]), or `-` for standard input. In a tree, the certificate files come
/// first, in walk order, then the extract files, applied as a full extract and its deltas
/// (see [`read_extracts`]): `full-*` first, then the others in path order. Streams: one file
/// is open at a time and each is read incrementally; the tree is walked once. Records from a
/// tree carry their file path (as joined from `path`) in [`Locator::file`].
pub fn open(path: &Path) -> Records {
    if path.as_os_str() == "-" {
        let stdin = std::io::BufReader::with_capacity(1 << 16, std::io::stdin());
        return Box::new(RecordReader::new("-", stdin));
    }
    let in_tree = path.is_dir();
    let mut tree = read_dir_tree(path);
    let mut extracts: Vec<PathBuf> = Vec::new();
    let mut current: Option<Records> = None;
    Box::new(std::iter::from_fn(move || loop {
        if let Some(r) = current.as_mut().and_then(Iterator::next) {
            return Some(r);
        }
        match tree.next() {
            Some(Err(e)) => return Some(Err(e)),
            Some(Ok(file)) if in_tree && is_extract_file(&file) => extracts.push(file),
            Some(Ok(file)) => {
                current = Some(match open_file(&file) {
                    Ok(r) => Box::new(r),
                    Err(e) => Box::new(std::iter::once(Err(e))),
                })
            }
            None if extracts.is_empty() => return None,
            None => {
                extracts.sort_by_key(|p| {
                    let full = p
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("full"));
                    (!full, p.clone())
                });
                current = Some(read_extracts(&std::mem::take(&mut extracts)));
            }
        }
    }))
}

/// The shape of a dump, from its content, for writing another like it: a directory is a
/// DER or PEM tree (by the content of its first certificate file) or an extract (no
/// certificate files); a
/// file is detected by reading it up to its first record.
pub fn dump_format(path: &Path) -> Result<OutputFormat, Error> {
    if path.is_dir() {
        let first = read_dir_tree(path).flatten().find(|f| !is_extract_file(f));
        let Some(first) = first else {
            return Ok(OutputFormat::Extract);
        };
        // By the content of the first certificate file (its name's extension when it shows
        // nothing: empty, unreadable).
        let read = open_file(&first).ok().and_then(|mut r| {
            r.next();
            r.format()
        });
        return Ok(match read {
            Some(Format::Pem | Format::Extract) => OutputFormat::PemTree,
            Some(Format::Der) => OutputFormat::DerTree,
            _ if has_extension(&first, &["pem"]) => OutputFormat::PemTree,
            _ => OutputFormat::DerTree,
        });
    }
    // The reader decides while it reads: up to the first record (a PEM bundle may have any
    // amount of text before its first BEGIN line).
    let mut reader = open_file(path)?;
    let first = reader.next();
    match reader.format() {
        Some(Format::Der) => Ok(OutputFormat::Der),
        Some(Format::Pem) => Ok(OutputFormat::Pem),
        Some(Format::Extract) => Ok(OutputFormat::Extract),
        _ => Err(match first {
            Some(Err(e)) => Error { raw: None, ..e },
            _ => file_error(path, ErrorKind::UnknownFormat),
        }),
    }
}

/// A streaming reader over one file.
pub fn open_file(path: &Path) -> Result<RecordReader<std::io::BufReader<fs::File>>, Error> {
    let file = fs::File::open(path).map_err(|e| file_error(path, ErrorKind::io(e)))?;
    Ok(RecordReader::new(
        path,
        std::io::BufReader::with_capacity(1 << 16, file),
    ))
}
