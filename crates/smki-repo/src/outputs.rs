//! Where a command may write: every output path checked against every input and every other
//! output before anything is written ([`plan`]), leftovers of an interrupted run recovered
//! ([`Plan::recover_leftovers`]), and the crash-safe replacement of a tree output
//! ([`replace_tree`]). The protocol is described in `docs/outputs.md`.
//!
//! Names beside an output `DIR/NAME` (all hidden, all skipped by the directory walker,
//! which skips `.*.tmp*`):
//!
//! * `.NAME.tmp-PID`: the output being written by process PID (a file, or a tree);
//! * `.NAME.tmp-old-PID`: a tree output that process PID moved aside while replacing it;
//! * `.NAME.tmp-commit-PID`: the journal of process PID's commit of several outputs
//!   ([`commit_all`]), beside the last of them;
//! * inside every tree output, [`TREE_MARKER`]: the mark of a tree smki wrote (an existing
//!   directory without it is not replaced unless forced).
use std::fmt;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

/// The file smki writes inside every tree output, and looks for before replacing a directory.
pub const TREE_MARKER: &str = ".smki-tree";

/// What an output is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// One file, written to a temporary name and renamed into place.
    File,
    /// A directory tree, replaced by [`replace_tree`].
    Tree,
}

/// One output of a command: its option (for messages), its path, what it is.
#[derive(Debug, Clone, Copy)]
pub struct Output<'a> {
    pub flag: &'static str,
    pub path: &'a Path,
    pub kind: OutputKind,
}

/// Why an output path is refused. Every variant names the option and the paths involved.
#[derive(Debug)]
#[non_exhaustive]
pub enum OutputError {
    /// The output is an input: the same path, through a symbolic link, or a hard link.
    IsInput {
        flag: &'static str,
        output: PathBuf,
        input: PathBuf,
    },
    /// The output lies inside an input directory.
    InsideInput {
        flag: &'static str,
        output: PathBuf,
        input: PathBuf,
    },
    /// The output is a directory holding an input: replacing it would delete the input.
    HoldsInput {
        flag: &'static str,
        output: PathBuf,
        input: PathBuf,
    },
    /// Two outputs are the same file, or one lies inside the other (a tree).
    Clash {
        flag: &'static str,
        output: PathBuf,
        other_flag: &'static str,
        other: PathBuf,
    },
    /// A tree output exists, is not empty and holds no [`TREE_MARKER`]: smki did not write
    /// it, and replacing it would delete its files (`--force` replaces it).
    ForeignDirectory { flag: &'static str, path: PathBuf },
    /// A file output that is an existing directory, or a tree output that is an existing file.
    WrongKind {
        flag: &'static str,
        path: PathBuf,
        is_dir: bool,
    },
    /// A component of the output's parent exists and is not a directory (or is `..` after
    /// a directory that does not exist).
    BadParent {
        flag: &'static str,
        path: PathBuf,
        parent: PathBuf,
    },
    /// The path could not be examined.
    Io {
        flag: &'static str,
        path: PathBuf,
        source: io::Error,
    },
}

impl fmt::Display for OutputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use OutputError::*;
        match self {
            IsInput {
                flag,
                output,
                input,
            } => write!(
                f,
                "{flag} {} is the input {}: refused, nothing written (an input is never modified)",
                output.display(),
                input.display()
            ),
            InsideInput {
                flag,
                output,
                input,
            } => write!(
                f,
                "{flag} {} is inside the input directory {}: refused, nothing written (an input is never modified)",
                output.display(),
                input.display()
            ),
            HoldsInput {
                flag,
                output,
                input,
            } => write!(
                f,
                "{flag} {} holds the input {}: refused, nothing written (replacing it would delete the input)",
                output.display(),
                input.display()
            ),
            Clash {
                flag,
                output,
                other_flag,
                other,
            } => write!(
                f,
                "{flag} {} and {other_flag} {} are the same file or one holds the other: refused, nothing written",
                output.display(),
                other.display()
            ),
            ForeignDirectory { flag, path } => write!(
                f,
                "{flag} {} is an existing directory that smki did not write (no {TREE_MARKER} in it): refused, nothing written (--force replaces it and deletes its files)",
                path.display()
            ),
            WrongKind { flag, path, is_dir } => write!(
                f,
                "{flag} {} is an existing {}: refused, nothing written (this output is {})",
                path.display(),
                if *is_dir { "directory" } else { "file" },
                if *is_dir { "a file" } else { "a directory tree" }
            ),
            BadParent { flag, path, parent } => write!(
                f,
                "{flag} {}: {} is not a directory: refused, nothing written",
                path.display(),
                parent.display()
            ),
            Io { flag, path, source } => write!(f, "{flag} {}: {source}", path.display()),
        }
    }
}

impl std::error::Error for OutputError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OutputError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The checked outputs of one command.
#[derive(Debug)]
pub struct Plan {
    outputs: Vec<PathBuf>,
}

/// Checks every output against every input and every other output, before anything is
/// written (this function writes nothing):
///
/// * an output may not be an input (compared canonically: through symbolic links, and by
///   device and inode for hard links), lie inside an input directory, or be a directory
///   holding an input;
/// * two outputs may not be the same file, nor one lie inside the other;
/// * an output that does not exist yet is judged by its canonical parent (the nearest
///   existing ancestor, which must be a directory, plus the rest of the path);
/// * a file output may not be an existing directory, a tree output not an existing file;
/// * a tree output that exists must be empty or hold [`TREE_MARKER`], unless `force`.
///
/// `inputs` that do not exist (or `-`, standard input) are skipped: the command reports them.
pub fn plan(inputs: &[&Path], outputs: &[Output<'_>], force: bool) -> Result<Plan, OutputError> {
    let inputs: Vec<(&Path, PathBuf)> = inputs
        .iter()
        .filter(|p| p.as_os_str() != "-")
        .filter_map(|p| fs::canonicalize(p).ok().map(|c| (*p, c)))
        .collect();
    let mut seen: Vec<(Output<'_>, PathBuf)> = Vec::new();
    for out in outputs {
        let flag = out.flag;
        let canonical = canonical_output(out.path).map_err(|e| match e {
            Resolve::Io(source) => OutputError::Io {
                flag,
                path: out.path.to_path_buf(),
                source,
            },
            Resolve::BadParent(parent) => OutputError::BadParent {
                flag,
                path: out.path.to_path_buf(),
                parent,
            },
        })?;
        for (input, ci) in &inputs {
            let (output, input) = (out.path.to_path_buf(), input.to_path_buf());
            if canonical == *ci || same_inode(&canonical, ci) {
                return Err(OutputError::IsInput {
                    flag,
                    output,
                    input,
                });
            }
            if canonical.starts_with(ci) {
                return Err(OutputError::InsideInput {
                    flag,
                    output,
                    input,
                });
            }
            if ci.starts_with(&canonical) {
                return Err(OutputError::HoldsInput {
                    flag,
                    output,
                    input,
                });
            }
        }
        for (other, co) in &seen {
            let inside = |a: &Path, b: &Path, b_kind: OutputKind| {
                a.starts_with(b) && (a == b || b_kind == OutputKind::Tree)
            };
            if inside(&canonical, co, other.kind)
                || inside(co, &canonical, out.kind)
                || same_inode(&canonical, co)
            {
                return Err(OutputError::Clash {
                    flag,
                    output: out.path.to_path_buf(),
                    other_flag: other.flag,
                    other: other.path.to_path_buf(),
                });
            }
        }
        match fs::metadata(&canonical) {
            Ok(meta) => match (out.kind, meta.is_dir()) {
                (OutputKind::File, true) | (OutputKind::Tree, false) => {
                    return Err(OutputError::WrongKind {
                        flag,
                        path: out.path.to_path_buf(),
                        is_dir: meta.is_dir(),
                    })
                }
                (OutputKind::Tree, true) if !force && !written_by_smki(&canonical) => {
                    return Err(OutputError::ForeignDirectory {
                        flag,
                        path: out.path.to_path_buf(),
                    })
                }
                _ => {}
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(OutputError::Io {
                    flag,
                    path: out.path.to_path_buf(),
                    source,
                })
            }
        }
        seen.push((*out, canonical));
    }
    Ok(Plan {
        outputs: outputs.iter().map(|o| o.path.to_path_buf()).collect(),
    })
}

/// A directory smki may replace without being forced: it holds [`TREE_MARKER`], or it is
/// empty (nothing to lose).
fn written_by_smki(dir: &Path) -> bool {
    dir.join(TREE_MARKER).is_file() || fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none())
}

/// Both paths exist and are the same file (a hard link, or the same file by another name).
fn same_inode(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (fs::metadata(a), fs::metadata(b)) {
            (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (a, b);
        false
    }
}

/// `ENOTDIR` (Linux and the BSDs): a path goes through something that is not a directory.
const ENOTDIR: i32 = 20;

enum Resolve {
    Io(io::Error),
    BadParent(PathBuf),
}

/// The canonical path of an output: of the path itself when it exists (symbolic links
/// followed), else of its nearest existing ancestor (which must be a directory) joined with
/// the components that do not exist yet.
fn canonical_output(path: &Path) -> Result<PathBuf, Resolve> {
    match fs::canonicalize(path) {
        Ok(c) => return Ok(c),
        // Not found, or a file on the way (ENOTDIR): the ancestors decide.
        Err(e) if e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(ENOTDIR) => {}
        Err(e) => return Err(Resolve::Io(e)),
    }
    let absolute = std::path::absolute(path).map_err(Resolve::Io)?;
    let mut rest: Vec<&std::ffi::OsStr> = Vec::new();
    let mut base = absolute.as_path();
    // The ancestor `levels` steps up, as the user wrote it (for messages).
    let as_given = |levels: usize| {
        path.ancestors()
            .nth(levels)
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
    };
    let mut levels = 0;
    loop {
        match fs::canonicalize(base) {
            Ok(c) => {
                if !c.is_dir() {
                    return Err(Resolve::BadParent(
                        as_given(levels).unwrap_or_else(|| base.to_path_buf()),
                    ));
                }
                let mut out = c;
                for name in rest.iter().rev() {
                    out.push(name);
                }
                return Ok(out);
            }
            // Not there, or a file on the way: one level up.
            Err(e) if e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(ENOTDIR) => {}
            Err(e) => return Err(Resolve::Io(e)),
        }
        match base.components().next_back() {
            Some(Component::Normal(name)) => rest.push(name),
            Some(Component::CurDir) => {}
            // `..` after a directory that does not exist, or no ancestor at all.
            _ => return Err(Resolve::BadParent(base.to_path_buf())),
        }
        base = match base.parent() {
            Some(p) => p,
            None => return Err(Resolve::BadParent(base.to_path_buf())),
        };
        levels += 1;
    }
}

impl Plan {
    /// Deals with what an interrupted run left beside each output (see the module
    /// documentation for the names), and returns a sentence for each thing done:
    ///
    /// * `.NAME.tmp-old-PID` (a tree moved aside): when `NAME` is missing, the run was killed
    ///   between moving the old tree aside and renaming the new one in: the old tree is
    ///   complete and is put back; otherwise the new tree was in place and the old one is
    ///   removed;
    /// * `.NAME.tmp-PID` (an output being written): removed (incomplete, or never committed).
    ///
    /// A leftover of a process that is still running (Linux: `/proc/PID` exists) is left
    /// alone and reported.
    pub fn recover_leftovers(&self) -> io::Result<Vec<String>> {
        let mut notes = Vec::new();
        // Interrupted commits first: their temporaries are complete outputs, put in place,
        // not unfinished ones to remove.
        for target in &self.outputs {
            recover(target, true, &mut notes)?;
        }
        for target in &self.outputs {
            recover(target, false, &mut notes)?;
        }
        Ok(notes)
    }
}

/// A leftover beside an output.
enum Leftover {
    Temp(u32),
    Aside(u32),
    /// The journal of a commit ([`commit_all`]).
    Journal(u32),
}

fn parse_leftover(name: &str, target_name: &str) -> Option<Leftover> {
    let rest = name.strip_prefix('.')?.strip_prefix(target_name)?;
    let rest = rest.strip_prefix(".tmp-")?;
    let (kind, pid) = match (rest.strip_prefix("old-"), rest.strip_prefix("commit-")) {
        (Some(pid), _) => (1, pid),
        (_, Some(pid)) => (2, pid),
        _ => (0, rest),
    };
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let pid = pid.parse().ok()?;
    Some(match kind {
        1 => Leftover::Aside(pid),
        2 => Leftover::Journal(pid),
        _ => Leftover::Temp(pid),
    })
}

fn running(pid: u32) -> bool {
    pid != std::process::id() && Path::new("/proc").join(pid.to_string()).exists()
}

fn remove_any(path: &Path) -> io::Result<()> {
    if fs::symlink_metadata(path)?.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    }
}

/// The leftovers beside `target`: journals only (`journals`), or everything else.
fn recover(target: &Path, journals: bool, notes: &mut Vec<String>) -> io::Result<()> {
    let Some(name) = target.file_name().and_then(|n| n.to_str()) else {
        return Ok(());
    };
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let entries = match fs::read_dir(parent) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut found: Vec<(PathBuf, Leftover)> = Vec::new();
    for entry in entries {
        let entry = entry?;
        if let Some(l) = entry
            .file_name()
            .to_str()
            .and_then(|n| parse_leftover(n, name))
        {
            if journals == matches!(l, Leftover::Journal(_)) {
                found.push((entry.path(), l));
            }
        }
    }
    // Asides first: one may have to go back before the temporaries are removed.
    found.sort_by_key(|(_, l)| matches!(l, Leftover::Temp(_)));
    for (path, leftover) in found {
        let pid = match leftover {
            Leftover::Temp(p) | Leftover::Aside(p) | Leftover::Journal(p) => p,
        };
        if running(pid) {
            notes.push(format!(
                "{}: left alone: process {pid}, which may be writing {}, is running",
                path.display(),
                target.display()
            ));
            continue;
        }
        match leftover {
            Leftover::Journal(pid) => finish_commit(&path, pid, notes)?,
            Leftover::Aside(_) if fs::symlink_metadata(target).is_err() => {
                fs::rename(&path, target)?;
                notes.push(format!(
                    "{}: restored from {} (an interrupted run had moved it aside)",
                    target.display(),
                    path.display()
                ));
            }
            Leftover::Aside(_) => {
                remove_any(&path)?;
                notes.push(format!(
                    "{}: removed (the output an interrupted run had replaced)",
                    path.display()
                ));
            }
            Leftover::Temp(_) => {
                remove_any(&path)?;
                notes.push(format!(
                    "{}: removed (an interrupted run's unfinished output)",
                    path.display()
                ));
            }
        }
    }
    Ok(())
}

/// The temporary name beside `target` that this process writes it under: `.NAME.tmp-PID`.
pub fn temp_path(target: &Path) -> PathBuf {
    sibling(target, "")
}

/// The name this process moves an old tree aside to: `.NAME.tmp-old-PID`.
fn aside_path(target: &Path) -> PathBuf {
    sibling(target, "old-")
}

fn sibling(target: &Path, kind: &str) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.tmp-{kind}{}", std::process::id()))
}

/// A test hook, inert unless the environment variable `SMKI_TEST_PAUSE_AT` names `step`:
/// then the process says so on standard error and sleeps (for a test to kill it exactly
/// there). Steps: `files-in` (a journalled commit's files in place, its tree not yet:
/// [`commit_all`]), `tree-written` (the new tree complete beside the old), `old-aside` (the
/// old tree moved aside, the final path absent), `new-in` (the new tree in place, the old
/// one not yet removed). Used by `tests/data_safety.rs`.
pub fn test_pause(step: &str) {
    if std::env::var_os("SMKI_TEST_PAUSE_AT").is_some_and(|v| v == step) {
        use io::Write;
        let _ = writeln!(io::stderr(), "smki: test hook: paused at {step}");
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}

/// Writes [`TREE_MARKER`] into the tree `temp` (synced).
pub fn mark_tree(temp: &Path) -> io::Result<()> {
    let mut f = fs::File::create(temp.join(TREE_MARKER))?;
    io::Write::write_all(
        &mut f,
        b"a directory tree written by smki: smki replaces it without --force\n",
    )?;
    f.sync_all()
}

/// Marks the complete tree `temp` as smki's ([`TREE_MARKER`]), syncs its directories, and
/// puts it in place at `target` ([`replace_tree`]) (a tree written other than by
/// [`crate::Writer`]: `simulate --out`).
pub fn commit_tree(temp: &Path, target: &Path) -> io::Result<()> {
    mark_tree(temp)?;
    sync_tree(temp)?;
    commit_all(&[Staged {
        temp: temp.to_path_buf(),
        target: target.to_path_buf(),
        kind: OutputKind::Tree,
    }])
}

/// Puts the tree `root` on disk, every file and directory: on Linux one `syncfs(2)` of its
/// file system (a sync per file costs about a millisecond each: 20 s for 20,000 files);
/// elsewhere a sync of each file and directory.
pub fn sync_tree(root: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        let dir = fs::File::open(root)?;
        rustix::fs::syncfs(&dir).map_err(io::Error::from)
    }
    #[cfg(not(target_os = "linux"))]
    {
        for e in fs::read_dir(root)? {
            let e = e?;
            if e.file_type()?.is_dir() {
                sync_tree(&e.path())?;
            } else {
                fs::File::open(e.path())?.sync_all()?;
            }
        }
        sync_dir(root)
    }
}

/// Syncs a directory (its entries: names created, renamed, removed).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Syncs the directory holding `path`.
pub fn sync_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => sync_dir(p),
        _ => sync_dir(Path::new(".")),
    }
}

/// An output complete and on disk at its temporary name, to be committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staged {
    pub temp: PathBuf,
    pub target: PathBuf,
    pub kind: OutputKind,
}

/// Commits a command's outputs together: files first, in order, then trees
/// ([`replace_tree`]). So that a kill between two renames (the new manifest beside the old
/// tree) is finished by the next run rather than left as a mix, the list is first written
/// to a journal, `.NAME.tmp-commit-PID` beside the last output (synced); it is removed once
/// every output is in place. [`Plan::recover_leftovers`] finds the journal of a process that
/// is no longer running and completes its commit (every temporary it names is complete and
/// on disk: the journal is written only after all are). Renames and removals are followed by
/// a sync of the directory.
pub fn commit_all(staged: &[Staged]) -> io::Result<()> {
    let Some(last) = staged.last() else {
        return Ok(());
    };
    let journal = if staged.len() > 1 {
        let path = sibling(&last.target, "commit-");
        let mut f = fs::File::create(&path)?;
        io::Write::write_all(&mut f, &journal_text(staged))?;
        f.sync_all()?;
        sync_parent(&path)?;
        Some(path)
    } else {
        None
    };
    let mut files_in = false;
    for s in staged {
        match s.kind {
            OutputKind::File => {
                fs::rename(&s.temp, &s.target)?;
                sync_parent(&s.target)?;
                files_in = true;
            }
            OutputKind::Tree => {
                if files_in && journal.is_some() {
                    test_pause("files-in");
                }
                replace_tree(&s.temp, &s.target)?;
                sync_parent(&s.target)?;
            }
        }
    }
    if let Some(j) = journal {
        fs::remove_file(&j)?;
        sync_parent(&j)?;
    }
    Ok(())
}

/// The journal of a commit: one line per output, `file` or `tree`, the temporary and the
/// target (each path's bytes in hex: any name), tab-separated.
fn journal_text(staged: &[Staged]) -> Vec<u8> {
    let mut out = String::from("smki commit v1\n");
    for s in staged {
        let kind = match s.kind {
            OutputKind::File => "file",
            OutputKind::Tree => "tree",
        };
        out.push_str(&format!(
            "{kind}\t{}\t{}\n",
            hex::encode(s.temp.as_os_str().as_encoded_bytes()),
            hex::encode(s.target.as_os_str().as_encoded_bytes())
        ));
    }
    out.into_bytes()
}

fn read_journal(text: &str) -> Option<Vec<Staged>> {
    let mut lines = text.lines();
    if lines.next()? != "smki commit v1" {
        return None;
    }
    let path = |h: &str| -> Option<PathBuf> {
        let bytes = hex::decode(h).ok()?;
        Some(crate::FileName::from_bytes(&bytes).as_path().to_path_buf())
    };
    lines
        .map(|l| {
            let mut f = l.split('\t');
            let kind = match f.next()? {
                "file" => OutputKind::File,
                "tree" => OutputKind::Tree,
                _ => return None,
            };
            Some(Staged {
                temp: path(f.next()?)?,
                target: path(f.next()?)?,
                kind,
            })
        })
        .collect()
}

/// Completes the commit a process (`pid`, no longer running) had journalled at `journal`:
/// every output whose temporary is still there is put in place (a tree by the steps of
/// [`replace_tree`] left to do); then the journal is removed.
fn finish_commit(journal: &Path, pid: u32, notes: &mut Vec<String>) -> io::Result<()> {
    let text = fs::read_to_string(journal)?;
    let Some(staged) = read_journal(&text) else {
        fs::remove_file(journal)?;
        notes.push(format!(
            "{}: removed (not a journal smki reads)",
            journal.display()
        ));
        return Ok(());
    };
    let mut done = Vec::new();
    for s in &staged {
        let aside = s
            .target
            .with_file_name(format!(".{}.tmp-old-{pid}", name_of(&s.target)));
        let temp_there = fs::symlink_metadata(&s.temp).is_ok();
        let target_there = fs::symlink_metadata(&s.target).is_ok();
        if temp_there {
            if s.kind == OutputKind::Tree && target_there {
                if fs::symlink_metadata(&aside).is_ok() {
                    remove_any(&aside)?;
                }
                fs::rename(&s.target, &aside)?;
            }
            fs::rename(&s.temp, &s.target)?;
            sync_parent(&s.target)?;
            done.push(s.target.display().to_string());
        }
        if fs::symlink_metadata(&aside).is_ok() {
            remove_any(&aside)?;
        }
    }
    fs::remove_file(journal)?;
    sync_parent(journal)?;
    notes.push(format!(
        "{}: completed the commit of an interrupted run (process {pid}){}",
        journal.display(),
        if done.is_empty() {
            String::new()
        } else {
            format!(": put in place {}", done.join(", "))
        }
    ));
    Ok(())
}

fn name_of(target: &Path) -> String {
    target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Puts the complete tree `temp` in place at `target`, crash-safely. At every instant
/// `target` holds the complete old tree, or the complete new one, or (between steps 2 and 3)
/// nothing, with the old tree complete at its aside name, which the next run puts back
/// ([`Plan::recover_leftovers`]):
///
/// 1. the new tree is complete at `temp` (with its [`TREE_MARKER`]);
/// 2. the old tree (if any) is renamed to `.NAME.tmp-old-PID`;
/// 3. `temp` is renamed to `target`;
/// 4. the old tree is removed.
///
/// Each rename is atomic (same directory, same file system).
pub fn replace_tree(temp: &Path, target: &Path) -> io::Result<()> {
    test_pause("tree-written");
    let aside = aside_path(target);
    let had_old = match fs::symlink_metadata(target) {
        Ok(_) => {
            fs::rename(target, &aside)?;
            true
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(e),
    };
    test_pause("old-aside");
    if let Err(e) = fs::rename(temp, target) {
        if had_old {
            // Put the old tree back; the new one stays at its temporary name for the next run
            // to remove.
            let _ = fs::rename(&aside, target);
        }
        return Err(e);
    }
    test_pause("new-in");
    if had_old {
        remove_any(&aside)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftover_names() {
        assert!(matches!(
            parse_leftover(".out.tmp-12", "out"),
            Some(Leftover::Temp(12))
        ));
        assert!(matches!(
            parse_leftover(".out.tmp-old-7", "out"),
            Some(Leftover::Aside(7))
        ));
        assert!(parse_leftover(".out.tmp-", "out").is_none());
        assert!(parse_leftover(".out.tmp-x1", "out").is_none());
        assert!(parse_leftover(".outer.tmp-1", "out").is_none());
        assert!(parse_leftover("out.tmp-1", "out").is_none());
    }

    /// The nearest existing ancestor decides; a file on the way is refused.
    #[test]
    fn canonical_of_missing_paths() {
        let dir = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(dir.path()).unwrap();
        let p = dir.path().join("a/b/c.json");
        assert!(matches!(canonical_output(&p), Ok(c) if c == root.join("a/b/c.json")));
        fs::write(dir.path().join("f"), b"x").unwrap();
        assert!(matches!(
            canonical_output(&dir.path().join("f/x.json")),
            Err(Resolve::BadParent(_))
        ));
    }
}
