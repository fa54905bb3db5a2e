package keydb

import (
	"fmt"
	"strings"

	"github.com/notary-go/notary/internal/sqldialect"
)

// Dialect names the SQL engine behind a database/sql handle.
type Dialect string

// The dialects OpenSQL supports.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
	MySQL    Dialect = "mysql" // MySQL 5.7+ and MariaDB 10.2+
)

// ParseDialect maps a storage backend name to a Dialect. It accepts v1's
// storage.backend values ("mysql", "postgres", "sqlite3") and the common
// aliases "sqlite", "postgresql", "pgx" and "mariadb".
func ParseDialect(name string) (Dialect, error) {
	switch strings.ToLower(name) {
	case "sqlite", "sqlite3":
		return SQLite, nil
	case "postgres", "postgresql", "pgx":
		return Postgres, nil
	case "mysql", "mariadb":
		return MySQL, nil
	}
	return "", fmt.Errorf("keydb: unknown SQL dialect %q (want sqlite, postgres or mysql)", name)
}

// rebind turns the ? placeholders of q into $1, $2, ... for PostgreSQL.
// Queries in this package hold no literal '?'.
func (d Dialect) rebind(q string) string {
	if d != Postgres {
		return q
	}
	return sqldialect.Dollar(q)
}

// timestampType is the column type of the migration bookkeeping table.
func (d Dialect) timestampType() string {
	if d == Postgres {
		return "timestamp"
	}
	return "datetime"
}
