package v1import

import (
	"errors"
	"net/url"
	"regexp"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// DescribeDSN names the database a DSN points to without its password,
// for progress output and errors: "user@host:5432/db" for PostgreSQL,
// "user@tcp(host:3306)/db" for MySQL, the file for SQLite.
func DescribeDSN(backend, dsn string) string {
	switch strings.ToLower(backend) {
	case "mysql", "mariadb":
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			return "(unparseable mysql DSN)"
		}
		return cfg.User + "@" + cfg.Net + "(" + cfg.Addr + ")/" + cfg.DBName
	case "postgres", "postgresql", "pgx":
		if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
			out := u.Host + u.Path
			if u.User != nil {
				out = u.User.Username() + "@" + out
			}
			if sp := u.Query().Get("search_path"); sp != "" {
				out += " (search_path " + sp + ")"
			}
			return out
		}
		return strings.TrimSpace(kvSecret.ReplaceAllString(dsn, ""))
	default:
		path, _, _ := strings.Cut(dsn, "?")
		return strings.TrimPrefix(path, "file:")
	}
}

// kvPassword matches password=... in a keyword/value PostgreSQL DSN,
// quoted or not; kvSecret also sslpassword=....
var (
	kvPassword = regexp.MustCompile(`(?i)\bpassword\s*=\s*('(?:[^'\\]|\\.)*'|\S*)`)
	kvSecret   = regexp.MustCompile(`(?i)\b(?:ssl)?password\s*=\s*('(?:[^'\\]|\\.)*'|\S*)`)
)

// Password returns the password a DSN holds, "" if none or unparseable.
func Password(backend, dsn string) string {
	switch strings.ToLower(backend) {
	case "mysql", "mariadb":
		if cfg, err := mysql.ParseDSN(dsn); err == nil {
			return cfg.Passwd
		}
	case "postgres", "postgresql", "pgx":
		if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
			if p, ok := u.User.Password(); ok {
				return p
			}
			return u.Query().Get("password")
		}
		if m := kvPassword.FindStringSubmatch(dsn); m != nil {
			return strings.Trim(m[1], "'")
		}
	}
	return ""
}

// Redact returns err with every occurrence of the DSN's password (also
// URL-escaped) replaced by "xxxxx" in its message, so that it can be
// printed. A nil err stays nil.
func Redact(err error, backend, dsn string) error {
	if err == nil {
		return nil
	}
	p := Password(backend, dsn)
	if p == "" {
		return err
	}
	msg := err.Error()
	for _, s := range []string{p, url.QueryEscape(p), url.PathEscape(p)} {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "xxxxx")
		}
	}
	if msg == err.Error() {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }

// Is lets errors.Is see through the redaction without exposing the
// original message through Unwrap.
func (e *redactedError) Is(target error) bool { return errors.Is(e.err, target) }
