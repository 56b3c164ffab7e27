//! Writers for every dump format. Output goes to a temporary name in the same directory and
//! is renamed into place by [`Writer::finish`], so a reader never sees half a dump (a tree is
//! swapped in by [`crate::outputs::replace_tree`]; see `docs/outputs.md`).
use crate::extract::{extract_row, EXTRACT_HEADER};
use crate::Record;
use base64::Engine;
use std::collections::HashSet;
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutputFormat {
    /// A directory tree with one DER file per certificate.
    DerTree,
    /// A directory tree with one PEM file per certificate.
    PemTree,
    /// One PEM bundle.
    Pem,
    /// Concatenated DER.
    Der,
    /// Extract CSV (metadata and base64 DER).
    Extract,
}

impl OutputFormat {
    pub const ALL: &'static [OutputFormat] = &[
        OutputFormat::DerTree,
        OutputFormat::PemTree,
        OutputFormat::Pem,
        OutputFormat::Der,
        OutputFormat::Extract,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutputFormat::DerTree => "der-tree",
            OutputFormat::PemTree => "pem-tree",
            OutputFormat::Pem => "pem",
            OutputFormat::Der => "der",
            OutputFormat::Extract => "extract",
        }
    }

    /// Is the output a directory tree?
    pub fn is_tree(self) -> bool {
        matches!(self, OutputFormat::DerTree | OutputFormat::PemTree)
    }

    /// File extension of a tree's files.
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::DerTree | OutputFormat::Der => "der",
            OutputFormat::PemTree | OutputFormat::Pem => "pem",
            OutputFormat::Extract => "csv",
        }
    }
}

impl core::fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::str::FromStr for OutputFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        OutputFormat::ALL
            .iter()
            .copied()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown format {s:?} (der-tree, pem-tree, pem, der, extract)"))
    }
}

/// The PEM text of one certificate (64-character lines).
pub fn pem_block(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 60);
    out.push_str("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

use crate::outputs::temp_path;

/// A file written under a temporary name and renamed into place by [`AtomicFile::commit`].
/// Dropped without commit, the temporary file is removed.
#[derive(Debug)]
pub struct AtomicFile {
    target: PathBuf,
    temp: PathBuf,
    out: Option<BufWriter<EarlySync>>,
}

/// The file under an [`AtomicFile`]. Every [`EarlySync::EVERY`] bytes, what has been written
/// so far is synced on a background thread, so the sync at commit waits only for the tail:
/// a scan writes ~0.9 KB of findings per certificate, and syncing all 88 MB of a 100k scan at
/// the end took ~85 ms of a 1.6 s run, with every other thread idle.
#[derive(Debug)]
struct EarlySync {
    file: fs::File,
    unsynced: u64,
    syncing: Option<std::thread::JoinHandle<io::Result<()>>>,
    /// A background sync that failed: reported at commit (a write that succeeded must not
    /// report another operation's error).
    failed: Option<io::Error>,
}

impl EarlySync {
    const EVERY: u64 = 8 << 20;

    fn new(file: fs::File) -> EarlySync {
        EarlySync {
            file,
            unsynced: 0,
            syncing: None,
            failed: None,
        }
    }

    /// Waits for the background sync, if any, and returns its result.
    fn wait(&mut self) -> io::Result<()> {
        match self.syncing.take() {
            Some(h) => h
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the background sync panicked"))),
            None => Ok(()),
        }
    }

    /// Everything written is on disk.
    fn sync(mut self) -> io::Result<()> {
        self.wait()?;
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        self.file.sync_all()
    }
}

impl Write for EarlySync {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.unsynced += n as u64;
        if self.unsynced >= Self::EVERY && self.syncing.as_ref().is_none_or(|h| h.is_finished()) {
            if let Err(e) = self.wait() {
                self.failed.get_or_insert(e);
            }
            self.unsynced = 0;
            // Without a second handle or a thread, the sync is simply left to commit.
            if let Ok(file) = self.file.try_clone() {
                self.syncing = std::thread::Builder::new()
                    .name("smki-sync".into())
                    .spawn(move || file.sync_data())
                    .ok();
            }
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl AtomicFile {
    pub fn create(target: &Path) -> io::Result<AtomicFile> {
        if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent)?;
        }
        let temp = temp_path(target);
        let file = fs::File::create(&temp)?;
        Ok(AtomicFile {
            target: target.to_path_buf(),
            temp,
            out: Some(BufWriter::with_capacity(1 << 16, EarlySync::new(file))),
        })
    }

    pub fn commit(mut self) -> io::Result<()> {
        let out = self.out.take().expect("not committed twice");
        out.into_inner().map_err(|e| e.into_error())?.sync()?;
        fs::rename(&self.temp, &self.target)
    }

    /// Writes `bytes` to `target` atomically.
    pub fn write_all_to(target: &Path, bytes: &[u8]) -> io::Result<()> {
        let mut f = AtomicFile::create(target)?;
        f.write_all(bytes)?;
        f.commit()
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.as_mut().expect("open").write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.as_mut().expect("open").flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// Where a record went: the file (relative to the writer's target for a tree, else the
/// target's file name) and the record index within that file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub file: String,
    pub record: usize,
}

/// A temporary tree, removed when dropped (a run that fails part-way leaves nothing; one that
/// is killed leaves it for the next run: [`crate::outputs::Plan::recover_leftovers`]).
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

enum Sink {
    /// Files are written under `temp` and the whole directory renamed to `target`.
    Tree {
        target: PathBuf,
        temp: PathBuf,
        format: OutputFormat,
        files: usize,
        /// Directories already created.
        dirs: HashSet<PathBuf>,
        /// Removes `temp` when the writer is dropped unfinished (after [`Writer::finish`]
        /// there is nothing left at `temp`).
        _cleanup: RemoveOnDrop,
        /// The file written last and how many records it holds: the next record for the
        /// same file is appended (a PEM file of several certificates stays one file).
        last: Option<(PathBuf, usize)>,
    },
    File {
        file: AtomicFile,
        name: String,
        format: OutputFormat,
        records: usize,
    },
}

/// Writes records in order in one format. For a tree, `target` is the directory; each
/// record goes to the relative path given (or derived from its locator: see
/// [`Writer::with_input_root`]). Otherwise `target` is the file.
pub struct Writer {
    sink: Sink,
    input_root: Option<PathBuf>,
    /// For a tree: write each record in the encoding it was read in (PEM when it came from
    /// a line-oriented file, else DER) rather than the tree's format.
    keep_encoding: bool,
}

impl Writer {
    pub fn create(format: OutputFormat, target: &Path) -> io::Result<Writer> {
        let sink = if format.is_tree() {
            let temp = temp_path(target);
            if temp.exists() {
                fs::remove_dir_all(&temp)?;
            }
            fs::create_dir_all(&temp)?;
            let cleanup = RemoveOnDrop(temp.clone());
            Sink::Tree {
                target: target.to_path_buf(),
                temp,
                format,
                files: 0,
                dirs: HashSet::new(),
                _cleanup: cleanup,
                last: None,
            }
        } else {
            let mut file = AtomicFile::create(target)?;
            if format == OutputFormat::Extract {
                file.write_all(EXTRACT_HEADER.as_bytes())?;
                file.write_all(b"\n")?;
            }
            let name = target
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            Sink::File {
                file,
                name,
                format,
                records: 0,
            }
        };
        Ok(Writer {
            sink,
            input_root: None,
            keep_encoding: false,
        })
    }

    /// For a tree: each record is written in the encoding it was read in (PEM for records
    /// read from text, DER otherwise), so that a mixed tree is copied file for file.
    pub fn keeping_encoding(mut self) -> Self {
        self.keep_encoding = true;
        self
    }

    /// For a tree: records written with [`Writer::write`] keep their path relative to
    /// `root` (the directory they were read from).
    pub fn with_input_root(mut self, root: &Path) -> Self {
        self.input_root = Some(root.to_path_buf());
        self
    }

    /// Writes a record: to a tree, at its locator's path relative to the input root (its
    /// file name when it is not under the root); elsewhere appended.
    pub fn write(&mut self, rec: &Record) -> io::Result<Written> {
        let rel = self.relative(&rec.locator);
        self.write_at(rel.as_deref(), rec)
    }

    /// Writes the bytes of a record the reader could not read (`Error::raw`) where that
    /// record stood, unaltered.
    pub fn write_unreadable(
        &mut self,
        locator: &crate::Locator,
        raw: &[u8],
    ) -> io::Result<Written> {
        let rel = self.relative(locator);
        self.write_raw(rel.as_deref(), raw)
    }

    /// For a tree: the path of a record's file relative to the input root.
    fn relative(&self, locator: &crate::Locator) -> Option<String> {
        if !matches!(self.sink, Sink::Tree { .. }) {
            return None;
        }
        let file = Path::new(&*locator.file);
        let rel = self
            .input_root
            .as_deref()
            .and_then(|r| file.strip_prefix(r).ok())
            .unwrap_or_else(|| {
                file.file_name()
                    .map(Path::new)
                    .unwrap_or(Path::new("certificate"))
            });
        Some(rel.to_string_lossy().into_owned())
    }

    /// Writes a record; `rel` is its relative path in a tree (ignored otherwise; required
    /// for a tree).
    pub fn write_at(&mut self, rel: Option<&str>, rec: &Record) -> io::Result<Written> {
        let format = match &self.sink {
            Sink::Tree { format, .. } | Sink::File { format, .. } => *format,
        };
        let format = match format {
            OutputFormat::DerTree | OutputFormat::PemTree if self.keep_encoding => {
                if rec.locator.line.is_some() {
                    OutputFormat::PemTree
                } else {
                    OutputFormat::DerTree
                }
            }
            f => f,
        };
        let bytes = match format {
            OutputFormat::DerTree | OutputFormat::Der => rec.der.clone(),
            OutputFormat::PemTree | OutputFormat::Pem => pem_block(&rec.der).into_bytes(),
            OutputFormat::Extract => extract_row(&rec.der, rec.meta.as_ref()).into_bytes(),
        };
        self.write_raw(rel, &bytes)
    }

    /// Writes `bytes` verbatim as one record (an unreadable record, a hand-made PEM block or
    /// CSV row: the caller supplies the complete text, line feed included).
    pub fn write_raw(&mut self, rel: Option<&str>, bytes: &[u8]) -> io::Result<Written> {
        match &mut self.sink {
            Sink::Tree {
                temp,
                files,
                dirs,
                last,
                ..
            } => {
                let rel = rel.ok_or_else(|| {
                    io::Error::new(io::ErrorKind::InvalidInput, "a tree needs a relative path")
                })?;
                let rel_path = Path::new(rel);
                if rel_path.is_absolute()
                    || rel_path
                        .components()
                        .any(|c| matches!(c, std::path::Component::ParentDir))
                {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("bad relative path {rel:?}"),
                    ));
                }
                let path = temp.join(rel_path);
                if let Some(parent) = path.parent() {
                    if !dirs.contains(parent) {
                        fs::create_dir_all(parent)?;
                        dirs.insert(parent.to_path_buf());
                    }
                }
                let record = match last {
                    Some((p, n)) if *p == path => {
                        fs::OpenOptions::new()
                            .append(true)
                            .open(&path)?
                            .write_all(bytes)?;
                        *n += 1;
                        *n - 1
                    }
                    _ => {
                        fs::write(&path, bytes)?;
                        *files += 1;
                        *last = Some((path, 1));
                        0
                    }
                };
                Ok(Written {
                    file: rel.replace('\\', "/"),
                    record,
                })
            }
            Sink::File {
                file,
                name,
                records,
                ..
            } => {
                file.write_all(bytes)?;
                *records += 1;
                Ok(Written {
                    file: name.clone(),
                    record: *records - 1,
                })
            }
        }
    }

    /// Number of records written so far.
    pub fn len(&self) -> usize {
        match &self.sink {
            Sink::Tree { files, .. } => *files,
            Sink::File { records, .. } => *records,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Moves the output into place (replacing an earlier one): a file by one rename, a tree
    /// by [`crate::outputs::replace_tree`] (with its [`crate::outputs::TREE_MARKER`]).
    pub fn finish(self) -> io::Result<()> {
        match self.sink {
            Sink::Tree { target, temp, .. } => {
                fs::write(
                    temp.join(crate::outputs::TREE_MARKER),
                    b"a directory tree written by smki: smki replaces it without --force\n",
                )?;
                crate::outputs::replace_tree(&temp, &target)
            }
            Sink::File { file, .. } => file.commit(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written across several background syncs (in odd-sized writes), the committed file
    /// holds every byte in order; dropped uncommitted, nothing is left, not even the temp.
    #[test]
    fn atomic_file_across_early_syncs() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.bin");
        let total = 3 * EarlySync::EVERY as usize + 12_345;
        let expected: Vec<u8> = (0..total).map(|i| (i * 7 % 251) as u8).collect();
        let mut f = AtomicFile::create(&target).unwrap();
        for chunk in expected.chunks(100_003) {
            f.write_all(chunk).unwrap();
        }
        assert!(!target.exists(), "nothing at the target before commit");
        f.commit().unwrap();
        assert_eq!(fs::read(&target).unwrap(), expected);
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );

        let other = dir.path().join("dropped.bin");
        let mut f = AtomicFile::create(&other).unwrap();
        f.write_all(&expected).unwrap();
        drop(f);
        assert!(!other.exists());
        assert_eq!(
            fs::read(&target).unwrap(),
            expected,
            "the committed file untouched"
        );
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temp removed on drop"
        );
    }
}
