//! The verdict per certificate.

smki_der::vocabulary! {
    /// What an operator acts on (README.md, "Verdicts, defect codes, predictions").
    ///
    /// Declared in the order the summary lists the verdicts; how grave each is, is
    /// [`Verdict::severity`] (there is no `Ord`: neither order is the natural one).
    pub enum Verdict {
        /// Canonical DER and the signature verifies.
        Clean = "clean",
        /// Not canonical outside the signed bytes, but (r, s) read leniently verify under the
        /// issuer key: re-encoding fixes it.
        Remediable = "remediable",
        /// The signature does not verify or cannot be read, or the signed bytes themselves are
        /// not DER: only a new signature fixes it.
        NeedsReissue = "needs_reissue",
        /// The issuer key was not found (or the algorithm is not ECDSA P-256 / SHA-256).
        Unverifiable = "unverifiable",
        /// Not a certificate that can be split into tbs / algorithm / signature.
        Unreadable = "unreadable",
    }
}

impl Verdict {
    /// How grave the verdict is, 0 for clean: clean < remediable < unverifiable <
    /// needs_reissue < unreadable (the order of `smki scan --fail-on`).
    pub fn severity(self) -> u8 {
        match self {
            Verdict::Clean => 0,
            Verdict::Remediable => 1,
            Verdict::Unverifiable => 2,
            Verdict::NeedsReissue => 3,
            Verdict::Unreadable => 4,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Verdict;

    #[test]
    fn severity_is_the_fail_on_order() {
        let mut by_severity = Verdict::ALL.to_vec();
        by_severity.sort_by_key(|v| v.severity());
        assert_eq!(
            by_severity,
            [
                Verdict::Clean,
                Verdict::Remediable,
                Verdict::Unverifiable,
                Verdict::NeedsReissue,
                Verdict::Unreadable
            ]
        );
        let names: Vec<String> = Verdict::ALL
            .iter()
            .map(|v| serde_json::to_string(v).unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "\"clean\"",
                "\"remediable\"",
                "\"needs_reissue\"",
                "\"unverifiable\"",
                "\"unreadable\""
            ]
        );
    }
}
