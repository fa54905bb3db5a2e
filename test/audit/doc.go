// Package audit holds one regression test per finding of the two public
// security audits of Notary: NCC Group's of July 2015 (TestAudit_NCC2015_*)
// and Cure53's of August 2018 (TestAudit_Cure53_*), plus the TLS and
// non-dumpable checks that came out of them. Each test drives the real
// parts (public APIs, in-process servers, built binaries); docs/security.md
// maps each finding to its test and lists the few tests that need package
// internals and so live beside the code.
package audit
