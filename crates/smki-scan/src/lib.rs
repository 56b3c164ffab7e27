//! The pipelines of `smki`: examine one record (analyse, verify, judge), and the reports.
//!
//! [`Examiner::examine_batch`] is the one place where a record becomes a [`Finding`]: the
//! certificate view, the signature analysis, the strict DER walk, the issuer lookup (and
//! issuer-key recovery), verification, the [`Verdict`] and the relying-party
//! [`Predictions`]. [`Examiner::builder`] is the one way to get an examiner, made ready for
//! a dump (issuers registered, the first pass made, tables built).
#![forbid(unsafe_code)]

pub mod audit;
mod examine;
mod finding;
mod hexbytes;
pub mod manifest;
mod predict;
mod prepare;
pub mod remediate;
pub mod report;
mod scan;
mod summary;
pub mod text;
mod verdict;

pub use examine::{Examiner, Input};
pub use finding::{At, Finding, FindingDefect, SignatureCheck};
pub use predict::{
    certificate_refusals, predict, Prediction, Predictions, RelyingParty, TestedWith,
};
pub use prepare::{ExaminerBuilder, IssuerRejected, IssuersFound, NoRecords, Prepared};
pub use scan::{for_each_ordered, scan, BATCH};
pub use summary::{Counts, Summary};
pub use verdict::Verdict;
