//! Repository dump formats: readers, writers and format detection.
//!
//! Every reader yields [`Record`]s: the DER of one certificate with its [`Locator`] (file,
//! record index, line, byte offset) and, for extracts, the repository's [`Metadata`]. A
//! record that cannot be read is an [`Error`] naming the same locator; readers go on with the
//! next record after it whenever the format allows.
//!
//! * [`open`]: records from a file, a directory tree or stdin, streamed one file at a time
//!   ([`RecordReader`] reads each file incrementally).
//! * [`read_dir_tree`]: the certificate files of a tree, in a stable order.
//! * [`read_extracts`]: a full extract and its daily deltas, applied in order.
//! * [`Writer`]: every [`OutputFormat`], written atomically (temporary name, then rename).
#![forbid(unsafe_code)]

mod error;
mod extract;
mod reader;
mod walk;
mod writer;

pub use error::{Error, ErrorKind};
pub use extract::{extract_row, read_extracts, EXTRACT_HEADER};
pub use reader::{detect, parse_buffer, Format, Locator, Metadata, Record, RecordReader};
pub use walk::{open, open_file, read_dir_tree, DirTree, CERT_EXTENSIONS};
pub use writer::{pem_block, AtomicFile, OutputFormat, Writer, Written};
