// A real Go relying party for smki's tests: for each (certificate, issuer) pair of DER files
// given as arguments, prints one JSON line of what Go's crypto/x509 does with it:
//   {"cert", "issuer", "outcome": "accept"|"reject", "error": Go's own words,
//    "signature": "accept"|"reject"|null}
// outcome: x509.ParseCertificate of both, then cert.CheckSignatureFrom(issuer) (the check a
// chain verification makes for one link); signature: crypto/ecdsa's VerifyASN1 of the
// signature over SHA-256(RawTBSCertificate) alone (null when the certificate cannot be
// parsed, or its issuer key is not ECDSA).
//
// Run: go run tests/go/verify.go CERT ISSUER [CERT ISSUER ...]   (or `version`)
package main

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
)

type answer struct {
	Cert      string  `json:"cert"`
	Issuer    string  `json:"issuer"`
	Outcome   string  `json:"outcome"`
	Error     string  `json:"error"`
	Signature *string `json:"signature"`
}

func verdict(ok bool) *string {
	s := "reject"
	if ok {
		s = "accept"
	}
	return &s
}

func check(certPath, issuerPath string) answer {
	a := answer{Cert: certPath, Issuer: issuerPath, Outcome: "reject"}
	certDer, err := os.ReadFile(certPath)
	if err != nil {
		a.Error = err.Error()
		return a
	}
	issuerDer, err := os.ReadFile(issuerPath)
	if err != nil {
		a.Error = err.Error()
		return a
	}
	issuer, err := x509.ParseCertificate(issuerDer)
	if err != nil {
		a.Error = "issuer: " + err.Error()
		return a
	}
	cert, err := x509.ParseCertificate(certDer)
	if err != nil {
		a.Error = err.Error()
		return a
	}
	if key, ok := issuer.PublicKey.(*ecdsa.PublicKey); ok {
		digest := sha256.Sum256(cert.RawTBSCertificate)
		a.Signature = verdict(ecdsa.VerifyASN1(key, digest[:], cert.Signature))
	}
	if err := cert.CheckSignatureFrom(issuer); err != nil {
		a.Error = err.Error()
		return a
	}
	a.Outcome = "accept"
	return a
}

func main() {
	args := os.Args[1:]
	if len(args) == 1 && args[0] == "version" {
		fmt.Println(runtime.Version())
		return
	}
	if len(args)%2 != 0 {
		fmt.Fprintln(os.Stderr, "usage: verify CERT ISSUER [CERT ISSUER ...] | version")
		os.Exit(2)
	}
	out := json.NewEncoder(os.Stdout)
	for i := 0; i < len(args); i += 2 {
		if err := out.Encode(check(args[i], args[i+1])); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
