//! The scan summary: counts by verdict and defect, breakdowns, and the root-cause line.
use crate::{At, Finding, Verdict};
use serde::Serialize;
use smki_der::{Component, DefectCode};
use std::collections::BTreeMap;

/// Counts per verdict for one group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub total: u64,
    pub clean: u64,
    pub remediable: u64,
    pub needs_reissue: u64,
    pub unverifiable: u64,
    pub unreadable: u64,
}

impl Counts {
    /// Counts one record of verdict `v`.
    pub fn add(&mut self, v: Verdict) {
        self.total += 1;
        *self.slot(v) += 1;
    }
    fn slot(&mut self, v: Verdict) -> &mut u64 {
        match v {
            Verdict::Clean => &mut self.clean,
            Verdict::Remediable => &mut self.remediable,
            Verdict::NeedsReissue => &mut self.needs_reissue,
            Verdict::Unverifiable => &mut self.unverifiable,
            Verdict::Unreadable => &mut self.unreadable,
        }
    }
    pub fn get(&self, v: Verdict) -> u64 {
        match v {
            Verdict::Clean => self.clean,
            Verdict::Remediable => self.remediable,
            Verdict::NeedsReissue => self.needs_reissue,
            Verdict::Unverifiable => self.unverifiable,
            Verdict::Unreadable => self.unreadable,
        }
    }
    /// Everything but clean.
    pub fn affected(&self) -> u64 {
        self.total - self.clean
    }
}

/// What one remediable-by-leading-zero finding says about the signer that made it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
struct Pattern {
    /// INTEGERs whose content was exactly 32 octets (33 with the pad) despite a small value.
    fixed_width: u64,
    /// Other leading-zero counts.
    other: u64,
}

/// The summary of a scan: all counts are of records.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub records: u64,
    pub verdicts: Counts,
    /// Records carrying each defect code (a record counts once per code), in name order.
    pub defects: BTreeMap<&'static str, u64>,
    /// Records per relying party that it is predicted to reject, in name order.
    pub predicted_rejections: BTreeMap<&'static str, u64>,
    /// The version each party's prediction was measured against: the one table every
    /// finding's predictions refer to.
    pub relying_parties: crate::TestedWith,
    /// By issuer (key id and name).
    pub by_issuer: BTreeMap<String, Counts>,
    /// By profile (and device type or role, where known).
    pub by_profile: BTreeMap<String, Counts>,
    pub by_usage: BTreeMap<String, Counts>,
    /// By repository status (P, I, N, E, R), where the dump carries it.
    pub by_status: BTreeMap<String, Counts>,
    /// By device lifecycle (installed, in storage, in manufacturing), where known.
    pub by_lifecycle: BTreeMap<String, Counts>,
    /// By issuance month (notBefore), YYYY-MM.
    pub by_month: BTreeMap<String, Counts>,
    /// The sentence naming the CA, period and pattern that account for the defects.
    pub root_cause: Option<String>,
    #[serde(skip)]
    leading_zero: BTreeMap<String, (u64, String, String, Pattern)>,
    #[serde(skip)]
    scratch: String,
    #[serde(skip)]
    scratch2: String,
}

const UNKNOWN: &str = "(unknown)";

/// Adds one record of verdict `v` to the group `key`, allocating the key only when new.
fn count(map: &mut BTreeMap<String, Counts>, key: &str, v: Verdict) {
    match map.get_mut(key) {
        Some(c) => c.add(v),
        None => map.entry(key.to_string()).or_default().add(v),
    }
}

impl Summary {
    /// Adds one finding. Runs on the pipeline's one ordered thread, so it avoids allocating:
    /// keys are written into a reused buffer and copied only when new.
    pub fn add(&mut self, f: &Finding) {
        use std::fmt::Write;
        self.records += 1;
        self.verdicts.add(f.verdict);
        for code in f.codes() {
            *self.defects.entry(code.as_str()).or_default() += 1;
        }
        for &rp in crate::RelyingParty::ALL {
            if f.predictions.get(rp) == crate::Prediction::Reject {
                *self.predicted_rejections.entry(rp.as_str()).or_default() += 1;
            }
        }
        let v = f.verdict;
        let mut key = std::mem::take(&mut self.scratch);
        key.clear();
        let _ = match (&f.issuer_key_id, &f.issuer) {
            (Some(k), Some(n)) => write!(key, "{} {n}", hex::display(k)),
            (None, Some(n)) => write!(key, "(no AKI) {n}"),
            _ => write!(key, "{UNKNOWN}"),
        };
        count(&mut self.by_issuer, &key, v);
        let issuer = key;
        let mut key = std::mem::take(&mut self.scratch2);
        let meta = f.meta.as_ref();
        key.clear();
        let kind = meta.and_then(|m| m.role.as_deref()).or(f.role.as_deref());
        let _ = match (f.profile, kind) {
            (Some(p), Some(k)) => write!(key, "{} {k}", p.as_str()),
            (Some(p), None) => write!(key, "{}", p.as_str()),
            (None, _) => write!(key, "{UNKNOWN}"),
        };
        count(&mut self.by_profile, &key, v);
        key.clear();
        let _ = match (f.usage, meta.and_then(|m| m.usage.as_deref())) {
            (Some(u), _) => write!(key, "{u:?}"),
            (None, Some(u)) => write!(key, "{u}"),
            (None, None) => write!(key, "{UNKNOWN}"),
        };
        count(&mut self.by_usage, &key, v);
        if let Some(m) = meta {
            if let Some(s) = &m.status {
                count(&mut self.by_status, s, v);
            }
            if let Some(l) = &m.lifecycle {
                count(&mut self.by_lifecycle, l, v);
            }
        }
        key.clear();
        match f.not_before {
            Some(t) => month_of(t, &mut key),
            None => key.push_str(UNKNOWN),
        }
        count(&mut self.by_month, &key, v);
        let month = key;
        if f.codes().any(|c| c == DefectCode::SigIntLeadingZero) {
            let e = self.leading_zero.entry(issuer.clone()).or_insert((
                0,
                month.clone(),
                month.clone(),
                Pattern::default(),
            ));
            e.0 += 1;
            if month < e.1 {
                e.1 = month.clone();
            }
            if month > e.2 {
                e.2 = month.clone();
            }
            for d in f
                .defects
                .iter()
                .filter(|d| d.code == DefectCode::SigIntLeadingZero)
            {
                let value = if d.at == At::Signature(Component::R) {
                    &f.r
                } else {
                    &f.s
                };
                let fixed = value.as_ref().is_some_and(|v| {
                    let significant = &v[v.iter().take_while(|&&b| b == 0).count()..];
                    let pad = significant.first().is_some_and(|b| b & 0x80 != 0);
                    // 32 content octets whatever the value: minimal DER + redundant zeros == 32.
                    significant.len() + usize::from(pad) + d.count as usize == 32
                });
                if fixed {
                    e.3.fixed_width += 1;
                } else {
                    e.3.other += 1;
                }
            }
        }
        self.scratch = issuer;
        self.scratch2 = month;
    }

    /// Computes the root-cause line; call once all findings are in. It names the issuers
    /// that account for the SIG_INT_LEADING_ZERO certificates (most first), the period in
    /// which they were issued, and whether every affected INTEGER has the fixed-width
    /// 32-octet length that marks the 2018 signer.
    pub fn finish(&mut self) {
        let total: u64 = self.leading_zero.values().map(|e| e.0).sum();
        if total == 0 {
            return;
        }
        let mut issuers: Vec<_> = self.leading_zero.iter().collect();
        issuers.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
        let first = issuers
            .iter()
            .map(|(_, e)| e.1.clone())
            .min()
            .unwrap_or_default();
        let last = issuers
            .iter()
            .map(|(_, e)| e.2.clone())
            .max()
            .unwrap_or_default();
        let fixed: u64 = issuers.iter().map(|(_, e)| e.3.fixed_width).sum();
        let other: u64 = issuers.iter().map(|(_, e)| e.3.other).sum();
        let named: Vec<String> = issuers
            .iter()
            .take(5)
            .map(|(name, e)| format!("{name} ({}, {} to {})", e.0, e.1, e.2))
            .collect();
        let more = if issuers.len() > 5 {
            format!(" and {} more", issuers.len() - 5)
        } else {
            String::new()
        };
        let how = if other == 0 {
            "every affected INTEGER is exactly 32 octets long: a signer writing r and s fixed-width without trimming (the 2018 defect)".to_string()
        } else {
            format!("{fixed} of {} affected INTEGERs are padded to exactly 32 octets (fixed-width writing); the rest carry other zero counts", fixed + other)
        };
        self.root_cause = Some(format!(
            "{total} certificates with SIG_INT_LEADING_ZERO, issued between {first} and {last} by {} issuer{}: {}{more}; {how}",
            issuers.len(),
            if issuers.len() == 1 { "" } else { "s" },
            named.join(", ")
        ));
    }
}

/// YYYY-MM of a Unix time.
fn month_of(t: i64, out: &mut String) {
    let days = t.div_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    use std::fmt::Write;
    let _ = write!(out, "{:04}-{:02}", if m <= 2 { y + 1 } else { y }, m);
}

#[cfg(test)]
mod tests {
    fn month(t: i64) -> String {
        let mut s = String::new();
        super::month_of(t, &mut s);
        s
    }

    #[test]
    fn months() {
        assert_eq!(month(0), "1970-01");
        assert_eq!(month(1_459_900_800), "2016-04"); // 2016-04-06
        assert_eq!(month(253_402_300_799), "9999-12");
        assert_eq!(month(951_782_400), "2000-02"); // 2000-02-29
    }
}
