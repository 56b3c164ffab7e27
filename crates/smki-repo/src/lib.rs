//! Repository dump formats: readers, writers and format detection.
//!
//! Every reader yields [`Record`]s: the DER of one certificate with its [`Locator`] (file,
//! record index, line, byte offset) and, for extracts, the repository's [`Metadata`]. A
//! record that cannot be read is an [`Error`] naming the same locator; readers go on with the
//! next record after it whenever the format allows.
//!
//! * [`open`]: every record of a dump (a file, a directory tree of certificate and extract
//!   files, or stdin), streamed one file at a time ([`RecordReader`] reads each file
//!   incrementally). Every command reads its dumps through it.
//! * [`read_dir_tree`]: the one directory walker: the dump files of a tree, in a stable
//!   order, each symlink loop reported once.
//! * [`dump_format`]: the shape of a dump, for writing another like it.
//! * [`read_extracts`]: a full extract and its daily deltas, applied in order.
//! * [`Writer`]: every [`OutputFormat`], written atomically (temporary name, then rename).
//! * [`outputs`]: every output path checked against the inputs and the other outputs before
//!   anything is written; the crash-safe replacement of a tree; leftovers of a killed run.
#![forbid(unsafe_code)]

mod error;
mod extract;
mod name;
pub mod outputs;
mod reader;
mod walk;
mod writer;

pub use error::{CsvError, Error, ErrorKind, IoError, ObjectKind, PemError};
pub use extract::{extract_row, read_extracts, EXTRACT_HEADER};
pub use name::{serial_text, tree_file_name, FileName, TREE_FILES_PER_DIR, TREE_NAME_SHA256_HEX};
pub use reader::{detect, parse_buffer, Format, Locator, Metadata, Record, RecordReader};
pub use walk::{
    dump_format, is_extract_file, open, open_file, read_dir_tree, DirTree, Records,
    CERT_EXTENSIONS, EXTRACT_EXTENSION,
};
pub use writer::{pem_block, AtomicFile, OutputFormat, Writer, Written};
