//! Reports for people.
use crate::{Finding, SignatureCheck};
use std::fmt::Write;

/// The readable report of one finding (what `smki inspect` prints).
pub fn finding(f: &Finding) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{}", f.locator);
    let _ = writeln!(
        o,
        "  sha256       {}",
        f.sha256.map(hex::encode).unwrap_or_default()
    );
    if let Some(p) = f.profile {
        let mut line = p.as_str().to_string();
        if let Some(role) = &f.role {
            let name = smki_x509::role_name(role).unwrap_or("unknown role");
            let _ = write!(line, ", role {role} ({name})");
        }
        if let Some(u) = f.usage {
            let _ = write!(line, ", usage {u:?}");
        }
        let _ = writeln!(o, "  profile      {line}");
    }
    if let Some(s) = &f.serial {
        let _ = writeln!(o, "  serial       {}", hex::display(s));
    }
    match (&f.eui64, &f.subject) {
        (Some(e), _) => {
            let _ = writeln!(o, "  EUI-64       {e}");
        }
        (None, Some(s)) if !s.is_empty() => {
            let _ = writeln!(o, "  subject      {s}");
        }
        _ => {}
    }
    if let Some(i) = &f.issuer {
        let _ = writeln!(
            o,
            "  issuer       {i}{}",
            f.issuer_key_id
                .as_ref()
                .map(|k| format!(" (key id {})", hex::display(k)))
                .unwrap_or_default()
        );
    }
    let sig = match &f.signature {
        SignatureCheck::Valid {
            issuer_key_id,
            key_source,
        } => {
            format!(
                "valid under key {} ({})",
                hex::display(issuer_key_id),
                source(key_source)
            )
        }
        SignatureCheck::Invalid {
            issuer_key_id,
            key_source,
        } => {
            format!(
                "INVALID under key {} ({})",
                hex::display(issuer_key_id),
                source(key_source)
            )
        }
        SignatureCheck::IssuerUnknown { looked_for } => {
            format!("issuer unknown: looked for {looked_for}")
        }
        SignatureCheck::NotChecked { why } => format!("not checked: {why}"),
    };
    let _ = writeln!(o, "  signature    {sig}");
    if f.defects.is_empty() {
        let _ = writeln!(o, "  defects      none");
    } else {
        let _ = writeln!(o, "  defects");
        for d in &f.defects {
            let _ = writeln!(
                o,
                "    {:<26} at byte {:<5} {:<16} {}  [{}]",
                d.code,
                d.offset,
                d.at,
                d.detail,
                hex::display(&d.excerpt)
            );
        }
    }
    for l in &f.lints {
        let _ = writeln!(o, "  lint         {} {}", l.code, l.detail);
    }
    let _ = writeln!(o, "  verdict      {}: {}", f.verdict.as_str(), f.reason);
    let p = &f.predictions;
    let _ = writeln!(
        o,
        "  predictions  java {} | openssl {} | bouncycastle {} | go {} | pyca {} | webpki {}",
        pred(p.java),
        pred(p.openssl),
        pred(p.bouncycastle),
        pred(p.go),
        pred(p.pyca),
        pred(p.webpki)
    );
    if p.tested_with.is_some() {
        let versions: Vec<String> = crate::RelyingParty::ALL
            .iter()
            .map(|rp| format!("{rp} {}", rp.tested_with()))
            .collect();
        let _ = writeln!(o, "  tested with  {}", versions.join(" | "));
    }
    o
}

fn source(s: &smki_verify::KeySource) -> String {
    match s {
        smki_verify::KeySource::Anchor { from } => format!("anchor from {from}"),
        smki_verify::KeySource::Recovered { from } => {
            format!("RECOVERED from the {from}, not an anchor")
        }
    }
}

/// A prediction as the report shows it: a rejection stands out, unknown is `?`.
fn pred(p: crate::Prediction) -> &'static str {
    match p {
        crate::Prediction::Reject => "REJECT",
        crate::Prediction::Unknown => "?",
        p => p.as_str(),
    }
}

/// The summary of a scan, for a person.
pub fn summary(s: &crate::Summary) -> String {
    use crate::Verdict;
    let mut o = String::new();
    let pct = |n: u64| {
        if s.records == 0 {
            0.0
        } else {
            n as f64 * 100.0 / s.records as f64
        }
    };
    let _ = writeln!(o, "records: {}", s.records);
    let _ = writeln!(o, "verdicts:");
    for &v in Verdict::ALL {
        let n = s.verdicts.get(v);
        let _ = writeln!(o, "  {:<14} {:>10}  {:>6.2}%", v.as_str(), n, pct(n));
    }
    if !s.defects.is_empty() {
        let _ = writeln!(o, "defects (records carrying each code):");
        for (code, n) in &s.defects {
            let _ = writeln!(o, "  {code:<26} {n:>10}  {:>6.2}%", pct(*n));
        }
    }
    if !s.predicted_rejections.is_empty() {
        let _ = writeln!(o, "predicted rejections:");
        for (rp, n) in &s.predicted_rejections {
            let _ = writeln!(o, "  {rp:<14} {n:>10}");
        }
    }
    let breakdowns: [(&str, &std::collections::BTreeMap<String, crate::Counts>); 6] = [
        ("by issuer", &s.by_issuer),
        ("by profile and type", &s.by_profile),
        ("by usage", &s.by_usage),
        ("by status", &s.by_status),
        ("by lifecycle", &s.by_lifecycle),
        ("by issuance month", &s.by_month),
    ];
    for (title, map) in breakdowns {
        if map.is_empty() {
            continue;
        }
        let _ = writeln!(o, "{title}:");
        let _ = writeln!(
            o,
            "  {:<44} {:>9} {:>9} {:>10} {:>8} {:>8} {:>8}",
            "", "total", "clean", "remediable", "reissue", "unverif", "unread"
        );
        for (k, c) in map {
            let key: String = if k.chars().count() > 44 {
                k.chars().take(43).chain(['…']).collect()
            } else {
                k.clone()
            };
            let mark = if c.affected() > 0 && title == "by issuance month" {
                "  <"
            } else {
                ""
            };
            let _ = writeln!(
                o,
                "  {key:<44} {:>9} {:>9} {:>10} {:>8} {:>8} {:>8}{mark}",
                c.total, c.clean, c.remediable, c.needs_reissue, c.unverifiable, c.unreadable
            );
        }
    }
    match &s.root_cause {
        Some(rc) => {
            let _ = writeln!(o, "root cause: {rc}");
        }
        None => {
            let _ = writeln!(o, "root cause: no SIG_INT_LEADING_ZERO defect found");
        }
    }
    o
}
