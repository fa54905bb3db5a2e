// Package htpasswd reads Apache htpasswd files of bcrypt hashes
// ("user:$2y$..." lines, as `htpasswd -B` writes them) and checks
// passwords against them.
//
// Only bcrypt is accepted: a file holding any other kind of hash (MD5
// "$apr1$", SHA-1 "{SHA}", crypt, plain text) is refused when it is
// loaded, naming the line, rather than leaving those users unable to log
// in (or worse, checked with a weak scheme).
package htpasswd

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// DefaultCost is the bcrypt cost of hashes made by Hash (bcrypt's
// default; `htpasswd -B` uses 5 unless given -C).
const DefaultCost = bcrypt.DefaultCost

// maxFileSize bounds an htpasswd file.
const maxFileSize = 16 << 20

// A File is a set of users and their bcrypt hashes. It is immutable and
// safe for concurrent use.
type File struct {
	users map[string][]byte
	costs map[string]int
	// pads[c] is a hash of a random password at cost c, for every cost
	// from the file's lowest to its highest; see Authenticate.
	pads    map[int][]byte
	maxCost int
}

// compare is bcrypt.CompareHashAndPassword; tests count the work.
var compare = bcrypt.CompareHashAndPassword

// A SyntaxError is a line of an htpasswd file that cannot be used.
type SyntaxError struct {
	Line int
	User string // "" when the line has no user
	Msg  string
}

func (e *SyntaxError) Error() string {
	if e.User != "" {
		return fmt.Sprintf("htpasswd: line %d (user %q): %s", e.Line, e.User, e.Msg)
	}
	return fmt.Sprintf("htpasswd: line %d: %s", e.Line, e.Msg)
}

// Load reads the htpasswd file at path.
func Load(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	file, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return file, nil
}

// Parse reads an htpasswd file: one "user:hash" per line; blank lines and
// lines starting with "#" are skipped; surrounding whitespace is ignored.
// Every hash must be bcrypt ($2a$, $2b$ or $2y$) and every user name
// unique, non-empty and free of control characters.
func Parse(r io.Reader) (*File, error) {
	f := &File{users: map[string][]byte{}, costs: map[string]int{}, pads: map[int][]byte{}}
	sc := bufio.NewScanner(io.LimitReader(r, maxFileSize))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	costs := map[int]int{}
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" {
			return nil, &SyntaxError{Line: n, Msg: `want "user:bcrypt-hash"`}
		}
		if strings.ContainsFunc(user, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return nil, &SyntaxError{Line: n, Msg: "control character in user name"}
		}
		if _, dup := f.users[user]; dup {
			return nil, &SyntaxError{Line: n, User: user, Msg: "user listed twice"}
		}
		if !isBcrypt(hash) {
			return nil, &SyntaxError{Line: n, User: user, Msg: "not a bcrypt hash; only bcrypt is supported (htpasswd -B)"}
		}
		cost, err := bcrypt.Cost([]byte(hash))
		if err != nil {
			return nil, &SyntaxError{Line: n, User: user, Msg: "invalid bcrypt hash: " + err.Error()}
		}
		costs[cost]++
		f.users[user] = []byte(hash)
		f.costs[user] = cost
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("htpasswd: %w", err)
	}
	// Pads for unknown users and for users whose hash is cheaper than the
	// dearest: see Authenticate.
	lo, hi := bcrypt.MinCost, bcrypt.MinCost
	if len(costs) > 0 {
		lo, hi = bcrypt.MaxCost, 0
		for c := range costs {
			lo, hi = min(lo, c), max(hi, c)
		}
	}
	pw := make([]byte, 16)
	_, _ = rand.Read(pw)
	for c := lo; c <= hi; c++ {
		h, err := bcrypt.GenerateFromPassword(pw, c)
		if err != nil {
			return nil, fmt.Errorf("htpasswd: %w", err)
		}
		f.pads[c] = h
	}
	f.maxCost = hi
	return f, nil
}

// isBcrypt reports whether hash looks like a bcrypt hash: $2a$, $2b$ or
// $2y$, a two-digit cost, "$", then 53 characters of bcrypt base64.
func isBcrypt(hash string) bool {
	if len(hash) != 60 || hash[0] != '$' || hash[1] != '2' || hash[3] != '$' || hash[6] != '$' {
		return false
	}
	switch hash[2] {
	case 'a', 'b', 'y':
	default:
		return false
	}
	return hash[4] >= '0' && hash[4] <= '9' && hash[5] >= '0' && hash[5] <= '9'
}

// Authenticate reports whether password is user's. Every call costs the
// same bcrypt work, 2^maxCost rounds where maxCost is the file's dearest
// hash, whoever the user (known or not) and whatever the password: a hash
// of cost c is padded with compares at costs c, c+1, ..., maxCost-1
// (2^c + 2^c + ... + 2^(maxCost-1) = 2^maxCost), and an unknown user is
// compared with a pad of maxCost. So response times tell neither which
// users exist nor what their cost is (a single dummy at one cost did when
// costs differed, issue 10). bcrypt's own final comparison is constant
// time. The price: every check costs as much as the dearest hash.
func (f *File) Authenticate(user, password string) bool {
	pw := []byte(password)
	hash, ok := f.users[user]
	if !ok {
		_ = compare(f.pads[f.maxCost], pw)
		return false
	}
	good := compare(hash, pw) == nil
	for c := f.costs[user]; c < f.maxCost; c++ {
		_ = compare(f.pads[c], pw)
	}
	return good
}

// Has reports whether the file lists user.
func (f *File) Has(user string) bool { _, ok := f.users[user]; return ok }

// Users returns the user names, sorted.
func (f *File) Users() []string {
	out := make([]string, 0, len(f.users))
	for u := range f.users {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

// ErrInvalidUser is returned by Line for a user name htpasswd cannot hold.
var ErrInvalidUser = errors.New("htpasswd: user name must be non-empty, without ':' or control characters")

// Line returns an htpasswd line "user:$2a$..." for user and password,
// hashed with bcrypt at cost (0 means DefaultCost).
func Line(user, password string, cost int) (string, error) {
	if user == "" || strings.ContainsAny(user, ":\n\r") || strings.ContainsFunc(user, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", ErrInvalidUser
	}
	if cost == 0 {
		cost = DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("htpasswd: %w", err)
	}
	return user + ":" + string(bytes.TrimSpace(h)), nil
}
