//! Directory trees of certificate files, and [`open`]: records from a file or a directory,
//! one file at a time.
use crate::{Error, ErrorKind, Locator, Record, RecordReader};
use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// File name extensions read from a directory tree (case-insensitive).
pub const CERT_EXTENSIONS: &[&str] = &["der", "cer", "crt", "pem"];

fn io_error(path: &Path, msg: String) -> Error {
    Error {
        raw: None,
        kind: ErrorKind::Io(msg),
        locator: Locator {
            file: path.display().to_string().into(),
            record: 0,
            line: None,
            offset: 0,
        },
    }
}

fn is_cert_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| CERT_EXTENSIONS.iter().any(|c| c.eq_ignore_ascii_case(e)))
}

/// The certificate files under `root` (extensions [`CERT_EXTENSIONS`]), depth first, in
/// byte order of their names at every level (so the order is stable across runs and
/// machines). Symbolic links are followed; a directory reached twice (a symlink loop, or
/// two links to one directory) is reported as an error and not read again. Unreadable
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
                Err(e) => return Some(Err(io_error(&path, e.to_string()))),
            };
            if !meta.is_dir() {
                if !(is_root || is_cert_file(&path)) {
                    continue;
                }
                if !meta.is_file() {
                    let msg = "not a regular file (a FIFO, socket or device): not read".to_string();
                    return Some(Err(io_error(&path, msg)));
                }
                return Some(Ok(path));
            }
            let canonical = match fs::canonicalize(&path) {
                Ok(c) => c,
                Err(e) => return Some(Err(io_error(&path, e.to_string()))),
            };
            if !self.seen.insert(canonical.clone()) {
                return Some(Err(io_error(
                    &path,
                    format!(
                        "directory {} already visited (symlink loop?), not read again",
                        canonical.display()
                    ),
                )));
            }
            let entries = match fs::read_dir(&path) {
                Ok(rd) => rd,
                Err(e) => return Some(Err(io_error(&path, e.to_string()))),
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
                    Err(e) => errors.push(io_error(&path, e.to_string())),
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

/// Every record in `path`: a file (DER, PEM or extract, detected), a directory tree (see
/// [`read_dir_tree`]), or `-` for standard input. Streams: one file is open at a time and
/// each is read incrementally. Records from a tree carry their file path (as joined from
/// `path`) in [`Locator::file`].
pub fn open(path: &Path) -> Box<dyn Iterator<Item = Result<Record, Error>> + Send> {
    if path.as_os_str() == "-" {
        let stdin = std::io::BufReader::with_capacity(1 << 16, std::io::stdin());
        return Box::new(RecordReader::new("-".into(), stdin));
    }
    Box::new(read_dir_tree(path).flat_map(
        |f| -> Box<dyn Iterator<Item = Result<Record, Error>> + Send> {
            match f {
                Err(e) => Box::new(std::iter::once(Err(e))),
                Ok(file) => match open_file(&file) {
                    Ok(r) => Box::new(r),
                    Err(e) => Box::new(std::iter::once(Err(e))),
                },
            }
        },
    ))
}

/// A streaming reader over one file.
pub fn open_file(path: &Path) -> Result<RecordReader<std::io::BufReader<fs::File>>, Error> {
    let file = fs::File::open(path).map_err(|e| io_error(path, e.to_string()))?;
    let name: Arc<str> = path.display().to_string().into();
    Ok(RecordReader::new(
        name,
        std::io::BufReader::with_capacity(1 << 16, file),
    ))
}
