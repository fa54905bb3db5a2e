package sqlstore

import (
	"fmt"
	"strings"
	"time"

	"github.com/notary-go/notary/internal/sqldialect"
)

// A Dialect names the SQL engine behind a *sql.DB. It decides placeholders,
// DDL, time encoding and how writers lock each other out.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
	MySQL    Dialect = "mysql"
)

// ParseDialect maps a backend name, as upstream's storage.backend spells it,
// to a Dialect: "sqlite3" or "sqlite", "postgres" or "postgresql", "mysql".
func ParseDialect(name string) (Dialect, error) {
	switch strings.ToLower(name) {
	case "sqlite", "sqlite3":
		return SQLite, nil
	case "postgres", "postgresql":
		return Postgres, nil
	case "mysql":
		return MySQL, nil
	}
	return "", fmt.Errorf("sqlstore: unknown SQL backend %q: want mysql, postgres or sqlite3", name)
}

func (d Dialect) valid() error {
	switch d {
	case SQLite, Postgres, MySQL:
		return nil
	}
	return fmt.Errorf("sqlstore: unknown dialect %q: want sqlstore.SQLite, Postgres or MySQL", string(d))
}

// rebind rewrites the ? placeholders of query into d's syntax. Our queries
// hold no ? inside literals.
func (d Dialect) rebind(query string) string {
	if d != Postgres {
		return query
	}
	return sqldialect.Dollar(query)
}

// sqliteTime is how SQLite rows hold times: text in SQLite's own format 4
// with a zone (https://www.sqlite.org/lang_datefunc.html), fixed to
// microseconds so that text order is time order, and parseable by both
// modernc.org/sqlite and SQLite's date functions.
const sqliteTime = "2006-01-02 15:04:05.000000-07:00"

// timeArg encodes t as a statement argument. PostgreSQL (timestamptz) and
// MySQL (DATETIME(6), written and read in the DSN's loc, UTC by default)
// take time.Time; SQLite takes our fixed text form so that the DSN's
// _time_format cannot change what is stored.
func (d Dialect) timeArg(t time.Time) any {
	if d == SQLite {
		return t.UTC().Format(sqliteTime)
	}
	return t.UTC()
}
