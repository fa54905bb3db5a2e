// Package sqldialect holds the SQL text rewriting shared by the server's
// store (storage/sqlstore), the signer's key database (signer/keydb) and
// their v0.7.0 importers. Each keeps its own Dialect type: storage and
// signer are side branches that only cmd/ joins.
package sqldialect

import (
	"strconv"
	"strings"
)

// Dollar turns the ? placeholders of q into PostgreSQL's $1, $2, ... The
// queries it is given hold no literal '?'.
func Dollar(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
