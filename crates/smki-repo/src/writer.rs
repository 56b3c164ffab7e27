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

    pub fn commit(self) -> io::Result<()> {
        let staged = self.prepare()?;
        fs::rename(&staged.temp, &staged.target)?;
        crate::outputs::sync_parent(&staged.target)
    }

    /// Everything written is on disk at the temporary name, to be committed with the
    /// command's other outputs ([`crate::outputs::commit_all`]); the temporary is no longer
    /// removed when this is dropped (an interrupted commit is the next run's to finish).
    pub fn prepare(mut self) -> io::Result<crate::outputs::Staged> {
        let out = self.out.take().expect("not committed twice");
        out.into_inner().map_err(|e| e.into_error())?.sync()?;
        Ok(crate::outputs::Staged {
            temp: self.temp.clone(),
            target: self.target.clone(),
            kind: crate::outputs::OutputKind::File,
        })
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
struct RemoveOnDrop(Option<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = fs::remove_dir_all(p);
        }
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
/// record goes to the relative path given, or, with [`Writer::write`], the path of its file
/// under the input root ([`Writer::with_input_root`]) or else [`crate::tree_file_name`].
/// Otherwise `target` is the file. A tree file is never overwritten: a record for a path
/// already written (other than the file written last, which a record is appended to) is an
/// error, and nothing is committed (docs/outputs.md, "Converting a dump").
pub struct Writer {
    sink: Sink,
    input_root: Option<PathBuf>,
    /// For a tree: write each record in the encoding it was read in (PEM when it came from
    /// a line-oriented file, else DER) rather than the tree's format.
    keep_encoding: bool,
    /// The input is in another format: every record written must read back as written.
    converting: bool,
}

impl Writer {
    pub fn create(format: OutputFormat, target: &Path) -> io::Result<Writer> {
        let sink = if format.is_tree() {
            let temp = temp_path(target);
            if temp.exists() {
                fs::remove_dir_all(&temp)?;
            }
            fs::create_dir_all(&temp)?;
            let cleanup = RemoveOnDrop(Some(temp.clone()));
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
            converting: false,
        })
    }

    /// For a tree: each record is written in the encoding it was read in (PEM for records
    /// read from text, DER otherwise), so that a mixed tree is copied file for file.
    pub fn keeping_encoding(mut self) -> Self {
        self.keep_encoding = true;
        self
    }

    /// For a tree: records written with [`Writer::write`] keep their path relative to
    /// `root` (the directory they were read from), unless they come from an extract file.
    pub fn with_input_root(mut self, root: &Path) -> Self {
        self.input_root = Some(root.to_path_buf());
        self
    }

    /// The output's format is not the input's (`converting`): each record written is read
    /// back with the reader first, and a record that would not read back as the same bytes
    /// (and, in an extract, with a serial) is refused with an error naming it. A record that
    /// does not read at all cannot be converted: the caller keeps it out
    /// ([`Writer::is_converting`]; docs/outputs.md, "Converting a dump").
    pub fn converting(mut self, converting: bool) -> Self {
        self.converting = converting;
        self
    }

    /// See [`Writer::converting`].
    pub fn is_converting(&self) -> bool {
        self.converting
    }

    fn format(&self) -> OutputFormat {
        match &self.sink {
            Sink::Tree { format, .. } | Sink::File { format, .. } => *format,
        }
    }

    /// Writes record `index` (its 0-based position in the input dump): to a tree, at its
    /// locator's path relative to the input root, or, for a record that does not come from
    /// a certificate file under the root, at [`crate::tree_file_name`]; elsewhere appended.
    pub fn write(&mut self, index: u64, rec: &Record) -> io::Result<Written> {
        let rel = self.relative(index, &rec.locator, &rec.der, self.record_format(rec));
        self.write_at(rel.as_deref(), rec)
    }

    /// Writes the bytes of a record the reader could not read (`Error::raw`) where that
    /// record stood, unaltered (never in a conversion: they would not read back).
    pub fn write_unreadable(
        &mut self,
        index: u64,
        locator: &crate::Locator,
        raw: &[u8],
    ) -> io::Result<Written> {
        let rel = self.relative(index, locator, raw, self.format());
        self.write_raw(rel.as_deref(), raw)
    }

    /// For a tree: the path of a record's file (see [`Writer::write`]).
    fn relative(
        &self,
        index: u64,
        locator: &crate::Locator,
        bytes: &[u8],
        format: OutputFormat,
    ) -> Option<PathBuf> {
        if !matches!(self.sink, Sink::Tree { .. }) {
            return None;
        }
        let file = locator.file.as_path();
        let under_root = self
            .input_root
            .as_deref()
            .and_then(|r| file.strip_prefix(r).ok())
            .filter(|rel| !rel.as_os_str().is_empty() && !crate::is_extract_file(file));
        Some(match under_root {
            Some(rel) => rel.to_path_buf(),
            None => {
                let mut name = crate::tree_file_name(index, bytes).into_os_string();
                name.push(".");
                name.push(format.extension());
                PathBuf::from(name)
            }
        })
    }

    /// The format a record is written in: the writer's, or for a tree keeping encodings,
    /// the one it was read in.
    fn record_format(&self, rec: &Record) -> OutputFormat {
        match self.format() {
            OutputFormat::DerTree | OutputFormat::PemTree if self.keep_encoding => {
                if rec.locator.line.is_some() {
                    OutputFormat::PemTree
                } else {
                    OutputFormat::DerTree
                }
            }
            f => f,
        }
    }

    /// Writes a record; `rel` is its relative path in a tree (ignored otherwise; required
    /// for a tree). In an extract, a record without a serial of its own (from a dump that
    /// is not an extract) is listed under its certificate's ([`crate::serial_text`]).
    pub fn write_at(&mut self, rel: Option<&Path>, rec: &Record) -> io::Result<Written> {
        let format = self.record_format(rec);
        let bytes = match format {
            OutputFormat::DerTree | OutputFormat::Der => rec.der.clone(),
            OutputFormat::PemTree | OutputFormat::Pem => pem_block(&rec.der).into_bytes(),
            OutputFormat::Extract => {
                let serial = rec.meta.as_ref().and_then(|m| m.serial.as_ref());
                let row = if serial.is_some() {
                    extract_row(&rec.der, rec.meta.as_ref())
                } else {
                    let meta = crate::Metadata {
                        serial: crate::serial_text(&rec.der),
                        ..rec.meta.clone().unwrap_or_default()
                    };
                    extract_row(&rec.der, Some(&meta))
                };
                row.into_bytes()
            }
        };
        if self.converting {
            reads_back(format, &bytes, &rec.der).map_err(|why| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{}: cannot be written as {format}: {why}; the conversion is refused",
                        rec.locator
                    ),
                )
            })?;
        }
        self.write_raw(rel, &bytes)
    }

    /// Writes `bytes` verbatim as one record (an unreadable record, a hand-made PEM block or
    /// CSV row: the caller supplies the complete text, line feed included).
    pub fn write_raw(&mut self, rel: Option<&Path>, bytes: &[u8]) -> io::Result<Written> {
        match &mut self.sink {
            Sink::Tree {
                temp,
                files,
                dirs,
                last,
                ..
            } => {
                let rel_path = rel.ok_or_else(|| {
                    io::Error::new(io::ErrorKind::InvalidInput, "a tree needs a relative path")
                })?;
                if rel_path.is_absolute()
                    || rel_path
                        .components()
                        .any(|c| !matches!(c, std::path::Component::Normal(_)))
                {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("bad relative path {}", rel_path.display()),
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
                        // Never over a file written before: two records for one name is a
                        // record lost.
                        let mut f = fs::OpenOptions::new()
                            .write(true)
                            .create_new(true)
                            .open(&path)
                            .map_err(|e| {
                                if e.kind() == io::ErrorKind::AlreadyExists {
                                    io::Error::new(
                                        io::ErrorKind::AlreadyExists,
                                        format!(
                                            "two records for the tree file {}: refused (a tree file is never overwritten)",
                                            crate::FileName::from(rel_path)
                                        ),
                                    )
                                } else {
                                    e
                                }
                            })?;
                        f.write_all(bytes)?;
                        *files += 1;
                        *last = Some((path, 1));
                        0
                    }
                };
                Ok(Written {
                    file: rel_path.to_string_lossy().replace('\\', "/"),
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
        crate::outputs::commit_all(&[self.prepare()?])
    }

    /// The output complete and on disk at its temporary name (a tree with its
    /// [`crate::outputs::TREE_MARKER`], synced: [`crate::outputs::sync_tree`]), to be
    /// committed with the
    /// command's other outputs by [`crate::outputs::commit_all`].
    pub fn prepare(self) -> io::Result<crate::outputs::Staged> {
        match self.sink {
            Sink::Tree {
                target,
                temp,
                mut _cleanup,
                ..
            } => {
                crate::outputs::mark_tree(&temp)?;
                crate::outputs::sync_tree(&temp)?;
                _cleanup.0 = None;
                Ok(crate::outputs::Staged {
                    temp,
                    target,
                    kind: crate::outputs::OutputKind::Tree,
                })
            }
            Sink::File { file, .. } => file.prepare(),
        }
    }
}

/// Does `bytes` (one record as written in `format`) read back, alone, as exactly one
/// record of `der` (with a serial, in an extract)? Why not, otherwise.
fn reads_back(format: OutputFormat, bytes: &[u8], der: &[u8]) -> Result<(), String> {
    let text;
    let bytes = if format == OutputFormat::Extract {
        text = [EXTRACT_HEADER.as_bytes(), b"\n", bytes].concat();
        &text[..]
    } else {
        bytes
    };
    let mut read = crate::parse_buffer("", bytes).into_iter();
    match (read.next(), read.next()) {
        (Some(Ok(r)), None) if r.der == der => Ok(()),
        (Some(Ok(_)), None) => Err("it reads back as other bytes".into()),
        (Some(Err(e)), None) => Err(format!("it would not read back ({})", e.kind)),
        (None, _) => Err("it reads back as nothing".into()),
        (Some(_), Some(_)) => Err("it reads back as several records".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tree file is never overwritten: a record for a path written before (not the last
    /// one, which is appended to) is refused; byte-identical records from a file get names
    /// of their own (their positions), in the input's order.
    #[test]
    fn tree_names_are_unique() {
        let dir = tempfile::tempdir().unwrap();
        let rec = |file: &str| Record {
            locator: crate::Locator {
                file: file.into(),
                record: 0,
                line: None,
                offset: 0,
            },
            der: vec![0x30, 0x03, 0x02, 0x01, 0x05],
            meta: None,
        };
        let mut w = Writer::create(OutputFormat::DerTree, &dir.path().join("t")).unwrap();
        w.write_at(Some(Path::new("a.der")), &rec("x")).unwrap();
        assert_eq!(
            w.write_at(Some(Path::new("a.der")), &rec("x"))
                .unwrap()
                .record,
            1,
            "appended"
        );
        w.write_at(Some(Path::new("b.der")), &rec("x")).unwrap();
        let e = w.write_at(Some(Path::new("a.der")), &rec("x")).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists, "{e}");
        assert!(e.to_string().contains("a.der"), "{e}");
        drop(w);

        let mut w = Writer::create(OutputFormat::DerTree, &dir.path().join("u")).unwrap();
        let names: Vec<String> = (0..3)
            .map(|i| w.write(i, &rec("dump.der")).unwrap().file)
            .collect();
        w.finish().unwrap();
        assert_eq!(names.len(), 3);
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, names, "unique, in the input's order");
        assert!(
            names[2].starts_with("000000/0000000002-noserial-"),
            "{names:?}"
        );
        let read: Vec<_> = crate::open(&dir.path().join("u")).collect();
        assert_eq!(read.len(), 3);
    }

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
