//! Per-certificate findings as CSV (JSONL is `serde_json` of [`Finding`]).
use crate::{Finding, RelyingParty};

/// The CSV header, matching [`csv_row`].
pub const CSV_HEADER: &str = "file,record,line,offset,sha256,serial,issuer_key_id,profile,role,usage,eui64,verdict,defects,java,openssl,bouncycastle,go,pyca,webpki,reason";

/// One finding as a CSV row (RFC 4180 quoting), without the line end.
pub fn csv_row(f: &Finding) -> String {
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    let hex = |o: &Option<Vec<u8>>| o.as_ref().map(hex::encode).unwrap_or_default();
    let mut cells: Vec<String> = vec![
        f.locator.file.to_string(),
        f.locator.record.to_string(),
        f.locator.line.map(|l| l.to_string()).unwrap_or_default(),
        f.locator.offset.to_string(),
        f.sha256.map(hex::encode).unwrap_or_default(),
        hex(&f.serial),
        hex(&f.issuer_key_id),
        f.profile
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        opt(&f.role),
        f.usage.map(|u| format!("{u:?}")).unwrap_or_default(),
        opt(&f.eui64),
        f.verdict.as_str().to_string(),
        f.codes_text(" "),
    ];
    for &rp in RelyingParty::ALL {
        cells.push(f.predictions.get(rp).as_str().to_string());
    }
    cells.push(f.reason.clone());
    cells.iter().map(|c| quote(c)).collect::<Vec<_>>().join(",")
}

/// A cell, safe for a spreadsheet, then RFC 4180-quoted when it needs it. A cell that a
/// spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or CR: a role
/// from an OU, a file name) gets a leading `'`, which spreadsheets show as text (OWASP's
/// advice on CSV injection); no cell smki writes starts so otherwise.
fn quote(c: &str) -> String {
    let neutral;
    let c = if c.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        neutral = format!("'{c}");
        &neutral
    } else {
        c
    };
    if c.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", c.replace('"', "\"\""))
    } else {
        c.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn formulas_are_neutralised_and_cells_quoted() {
        let cases = [
            ("plain", "plain"),
            (
                "=HYPERLINK(\"http://x\")",
                "\"'=HYPERLINK(\"\"http://x\"\")\"",
            ),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "\"'\rx\""),
            ("a,b", "\"a,b\""),
            ("a=b", "a=b"),
        ];
        for (cell, want) in cases {
            assert_eq!(quote(cell), want, "{cell:?}");
        }
    }
}
