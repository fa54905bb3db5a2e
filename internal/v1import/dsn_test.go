package v1import_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/notary-go/notary/internal/v1import"
)

func TestDSNsNeverShowPasswords(t *testing.T) {
	for _, tc := range []struct {
		name, backend, dsn, describe string
	}{
		{name: "postgres url", backend: "postgres", dsn: "postgres://notary:s3cr%40t@db.example.com:5432/notaryserver?sslmode=verify-full", describe: "notary@db.example.com:5432/notaryserver"},
		{name: "postgres url with search_path", backend: "postgresql", dsn: "postgresql://u:s3cr%40t@h/db?search_path=x", describe: "u@h/db (search_path x)"},
		{name: "postgres password param", backend: "postgres", dsn: "postgres://u@h/db?password=s3cr%40t", describe: "u@h/db"},
		{name: "postgres keyword/value", backend: "postgres", dsn: "host=h user=u password='s3cr@t' dbname=db", describe: "host=h user=u  dbname=db"},
		{name: "mysql", backend: "mysql", dsn: "server:s3cr@t@tcp(mysql:3306)/notaryserver?parseTime=True", describe: "server@tcp(mysql:3306)/notaryserver"},
		{name: "sqlite", backend: "sqlite3", dsn: "file:/var/lib/notary/server.db?_pragma=busy_timeout(5000)", describe: "/var/lib/notary/server.db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := v1import.DescribeDSN(tc.backend, tc.dsn); got != tc.describe || strings.Contains(got, "s3cr") {
				t.Errorf("DescribeDSN = %q, want %q", got, tc.describe)
			}
			if tc.backend == "sqlite3" {
				return
			}
			if p := v1import.Password(tc.backend, tc.dsn); p != "s3cr@t" {
				t.Errorf("Password = %q, want s3cr@t", p)
			}
			cause := errors.New("boom")
			err := v1import.Redact(errors.Join(errors.New("connecting to "+tc.dsn+" with s3cr@t and s3cr%40t"), cause), tc.backend, tc.dsn)
			if strings.Contains(err.Error(), "s3cr") {
				t.Errorf("Redact left the password in %q", err)
			}
			if !errors.Is(err, cause) {
				t.Errorf("Redact hid the cause from errors.Is")
			}
		})
	}
	if v1import.Redact(nil, "mysql", "u:p@/db") != nil {
		t.Error("Redact(nil) != nil")
	}
}
