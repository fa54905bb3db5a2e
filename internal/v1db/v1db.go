// Package v1db reads values from Notary v0.7.0's (GORM's) SQL databases,
// for the importers of the server's (internal/v1import) and the signer's
// (signer/keydb/v1import) data.
package v1db

import (
	"fmt"
	"time"
)

var (
	zonedLayouts = []string{
		"2006-01-02 15:04:05.999999999-07:00",
		"2006-01-02 15:04:05.999999999 -0700 MST",
		time.RFC3339Nano,
	}
	wallLayouts = []string{
		"2006-01-02 15:04:05.999999999",
		"2006-01-02T15:04:05.999999999",
	}
)

// ParseTime reads src, a value scanned from an upstream time column, as an
// instant in UTC. Upstream's columns have no zone: a wall clock the
// database returns (a time.Time labelled UTC, or text without an offset)
// is read in loc (nil means UTC); a time with a zone is kept as that
// instant. valid is false for NULL.
func ParseTime(src any, loc *time.Location) (t time.Time, valid bool, err error) {
	if loc == nil {
		loc = time.UTC
	}
	var str string
	switch v := src.(type) {
	case nil:
		return time.Time{}, false, nil
	case time.Time:
		if v.Location() != time.UTC {
			return v.UTC(), true, nil // the driver knew the zone
		}
		// Zone-less columns come back as a wall clock labelled UTC.
		return relabel(v, loc), true, nil
	case []byte:
		str = string(v)
	case string:
		str = v
	default:
		return time.Time{}, false, fmt.Errorf("v1import: cannot read %T as a time", src)
	}
	for _, layout := range zonedLayouts {
		if t, err := time.Parse(layout, str); err == nil {
			return t.UTC(), true, nil
		}
	}
	for _, layout := range wallLayouts {
		if t, err := time.Parse(layout, str); err == nil {
			return relabel(t, loc), true, nil
		}
	}
	return time.Time{}, false, fmt.Errorf("v1import: cannot read %q as a time", str)
}

// relabel reads t's wall clock in loc and returns that instant in UTC.
func relabel(t time.Time, loc *time.Location) time.Time {
	y, mo, d := t.Date()
	h, mi, sec := t.Clock()
	return time.Date(y, mo, d, h, mi, sec, t.Nanosecond(), loc).UTC()
}
