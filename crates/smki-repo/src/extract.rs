//! The repository extract: CSV with the web service's metadata and the base64 DER.
//!
//! ```text
//! serial,subject,eui64,status,role,usage,manufacturing,lifecycle,issued,certificate
//! 1839..14,,00-DB-12-34-56-78-90-BA,I,ESME,DS,Y,installed,2016-04-06,MIIBoDCCAUagAwIBAgIQ...
//! ```
//! The header names the columns (any order; `serial` and `certificate` are required, the
//! others optional, unknown columns ignored). Fields are quoted the RFC 4180 way when they
//! hold a comma or a quote. A full extract holds the repository as of a cut-off; daily delta
//! files add the certificates issued later and may repeat an earlier serial with a new
//! status: [`read_extracts`] applies them in order, a row replacing the earlier row with the
//! same serial.
use crate::{CsvError, Error, Metadata, Record, RecordReader};
use base64::Engine;
use std::collections::HashMap;
use std::path::Path;

/// The header the writers use.
pub const EXTRACT_HEADER: &str =
    "serial,subject,eui64,status,role,usage,manufacturing,lifecycle,issued,certificate";

/// Column positions of an extract, from its header line.
#[derive(Debug, Clone)]
pub(crate) struct ExtractColumns {
    count: usize,
    serial: usize,
    certificate: usize,
    subject: Option<usize>,
    eui64: Option<usize>,
    status: Option<usize>,
    role: Option<usize>,
    usage: Option<usize>,
    manufacturing: Option<usize>,
    lifecycle: Option<usize>,
    issued: Option<usize>,
}

impl ExtractColumns {
    pub(crate) fn from_header(line: &str) -> Result<ExtractColumns, CsvError> {
        let names: Vec<String> = split_fields(line)?
            .into_iter()
            .map(|n| n.trim().to_ascii_lowercase())
            .collect();
        let find = |n: &str| names.iter().position(|c| c == n);
        Ok(ExtractColumns {
            count: names.len(),
            serial: find("serial").ok_or(CsvError::MissingColumn("serial"))?,
            certificate: find("certificate").ok_or(CsvError::MissingColumn("certificate"))?,
            subject: find("subject"),
            eui64: find("eui64"),
            status: find("status"),
            role: find("role"),
            usage: find("usage"),
            manufacturing: find("manufacturing"),
            lifecycle: find("lifecycle"),
            issued: find("issued"),
        })
    }

    pub(crate) fn parse_row(&self, line: &str) -> Result<(Vec<u8>, Metadata), CsvError> {
        let fields = split_fields(line)?;
        if fields.len() != self.count {
            return Err(CsvError::FieldCount {
                found: fields.len(),
                header: self.count,
            });
        }
        let get = |i: Option<usize>| {
            i.map(|i| fields[i].trim())
                .filter(|f| !f.is_empty())
                .map(str::to_string)
        };
        let manufacturing = match get(self.manufacturing).as_deref() {
            None => None,
            Some("Y" | "y" | "true" | "TRUE" | "1") => Some(true),
            Some("N" | "n" | "false" | "FALSE" | "0") => Some(false),
            Some(other) => return Err(CsvError::ManufacturingFlag(other.to_string())),
        };
        let serial = get(Some(self.serial)).ok_or(CsvError::EmptySerial)?;
        let b64 = fields[self.certificate].trim();
        if b64.is_empty() {
            return Err(CsvError::EmptyCertificate);
        }
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64.as_bytes())
            .map_err(CsvError::Base64)?;
        let meta = Metadata {
            status: get(self.status),
            role: get(self.role),
            usage: get(self.usage),
            manufacturing,
            lifecycle: get(self.lifecycle),
            serial: Some(serial),
            subject: get(self.subject),
            eui64: get(self.eui64),
            issued: get(self.issued),
        };
        Ok((der, meta))
    }
}

/// Splits one CSV line into fields (RFC 4180 quoting, no embedded line breaks).
fn split_fields(line: &str) -> Result<Vec<String>, CsvError> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut chars = line.char_indices().peekable();
    let mut at_start = true;
    let mut quoted = false;
    while let Some((i, c)) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek().map(|&(_, c)| c) == Some('"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                    match chars.peek() {
                        None | Some((_, ',')) => {}
                        Some(&(j, _)) => return Err(CsvError::TextAfterQuote { column: j + 1 }),
                    }
                }
            } else {
                field.push(c);
            }
        } else if c == ',' {
            out.push(std::mem::take(&mut field));
            at_start = true;
            continue;
        } else if c == '"' && at_start {
            quoted = true;
        } else if c == '"' {
            return Err(CsvError::QuoteInField { column: i + 1 });
        } else {
            field.push(c);
        }
        at_start = false;
    }
    if quoted {
        return Err(CsvError::UnterminatedQuote);
    }
    out.push(field);
    Ok(out)
}

fn quote(field: &str, out: &mut String) {
    if field.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// One extract row (with its line feed) for a certificate and its metadata, in the column
/// order of [`EXTRACT_HEADER`]. The serial comes from the metadata when it has one.
pub fn extract_row(der: &[u8], meta: Option<&Metadata>) -> String {
    let empty = Metadata::default();
    let m = meta.unwrap_or(&empty);
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut row = String::with_capacity(der.len() * 4 / 3 + 120);
    let fields = [
        opt(&m.serial),
        opt(&m.subject),
        opt(&m.eui64),
        opt(&m.status),
        opt(&m.role),
        opt(&m.usage),
        m.manufacturing
            .map(|f| if f { "Y" } else { "N" }.to_string())
            .unwrap_or_default(),
        opt(&m.lifecycle),
        opt(&m.issued),
    ];
    for f in &fields {
        quote(f, &mut row);
        row.push(',');
    }
    base64::engine::general_purpose::STANDARD.encode_string(der, &mut row);
    row.push('\n');
    row
}

/// Reads a full extract and its delta files, in the order given (the first is the full
/// extract), and applies them: a row whose serial was seen before replaces the earlier row
/// (in the earlier row's position); new serials are appended, in the order they first
/// appear. Bad rows are errors in their place, and do not stop the rest.
///
/// Streams: the deltas (daily, small) are held in memory, the full extract is read one row
/// at a time, so memory does not grow with the size of the full extract.
pub fn read_extracts<P: AsRef<Path>>(
    files: &[P],
) -> Box<dyn Iterator<Item = Result<Record, Error>> + Send> {
    let Some((full, deltas)) = files.split_first() else {
        return Box::new(std::iter::empty());
    };
    // The deltas, applied among themselves: one slot per serial (latest row wins), in order
    // of first appearance; errors keep their place.
    let mut slots: Vec<Result<Record, Error>> = Vec::new();
    let mut by_serial: HashMap<String, usize> = HashMap::new();
    for path in deltas {
        for r in open_extract(path.as_ref()) {
            match serial_of(&r) {
                Some(s) => match by_serial.get(&s) {
                    Some(&i) => slots[i] = r,
                    None => {
                        by_serial.insert(s, slots.len());
                        slots.push(r);
                    }
                },
                None => slots.push(r),
            }
        }
    }
    let mut used = vec![false; slots.len()];
    let mut slots_iter = None;
    let mut full_rows = open_extract(full.as_ref());
    Box::new(std::iter::from_fn(move || {
        if slots_iter.is_none() {
            match full_rows.next() {
                Some(r) => {
                    // A full-extract row that a delta replaces yields the delta's row.
                    if let Some(&i) = serial_of(&r).and_then(|s| by_serial.get(&s)) {
                        used[i] = true;
                        return Some(slots[i].clone());
                    }
                    return Some(r);
                }
                None => {
                    slots_iter = Some(
                        std::mem::take(&mut slots)
                            .into_iter()
                            .zip(std::mem::take(&mut used)),
                    )
                }
            }
        }
        slots_iter.as_mut()?.find(|(_, used)| !used).map(|(r, _)| r)
    }))
}

/// The records of one extract file (an error record when it cannot be opened).
fn open_extract(path: &Path) -> Box<dyn Iterator<Item = Result<Record, Error>> + Send> {
    let name = crate::FileName::from(path);
    match std::fs::File::open(path) {
        Ok(file) => Box::new(RecordReader::new(
            name,
            std::io::BufReader::with_capacity(1 << 16, file),
        )),
        Err(e) => Box::new(std::iter::once(Err(Error::new(
            crate::ErrorKind::io(e),
            crate::Locator {
                file: name,
                record: 0,
                line: None,
                offset: 0,
            },
        )))),
    }
}

/// The serial of a record, lower case, as the extract lists it.
fn serial_of(r: &Result<Record, Error>) -> Option<String> {
    r.as_ref()
        .ok()?
        .meta
        .as_ref()?
        .serial
        .as_ref()
        .map(|s| s.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_quotes() {
        assert_eq!(
            split_fields("a,\"b,c\",,\"d\"\"e\"").unwrap(),
            vec!["a", "b,c", "", "d\"e"]
        );
        assert!(split_fields("a,\"b").is_err());
        assert!(split_fields("a,b\"c").is_err());
        assert!(split_fields("\"a\"x,b").is_err());
        let meta = Metadata {
            serial: Some("01".into()),
            subject: Some("CN=A,OU=02".into()),
            manufacturing: Some(true),
            ..Default::default()
        };
        let row = extract_row(&[0x30, 0x00], Some(&meta));
        assert_eq!(row, "01,\"CN=A,OU=02\",,,,,Y,,,MAA=\n");
        let cols = ExtractColumns::from_header(EXTRACT_HEADER).unwrap();
        let (der, m) = cols.parse_row(row.trim_end()).unwrap();
        assert_eq!(der, [0x30, 0x00]);
        assert_eq!(m, meta);
    }
}
