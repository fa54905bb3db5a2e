package issuer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/notary-go/notary/auth"
)

// A Rule grants actions on the resources whose name matches Name to the
// accounts matching Account.
//
// Account is required: "" matches only anonymous requests (no
// credentials); any other pattern matches only authenticated users. Type
// defaults to "repository". Account, Type and Name are glob patterns where
// "*" matches any run of characters (including "/") and everything else
// matches itself; in Name, "${account}" stands for the requesting user's
// name (matched literally). Actions lists what is granted; "*" grants
// every action asked for, including the "*" that deleting a collection or
// rotating a server key needs.
//
// Examples:
//
//	{"account": "admin", "name": "*", "actions": ["*"]}
//	{"account": "admin", "type": "registry", "name": "catalog", "actions": ["*"]}
//	{"account": "*", "name": "example.com/${account}/*", "actions": ["push", "pull"]}
//	{"account": "", "name": "example.com/public/*", "actions": ["pull"]}
type Rule struct {
	Account *string  `json:"account"`
	Type    string   `json:"type,omitempty"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

// An ACL is a list of rules. What an account may do on a resource is the
// union of what every matching rule grants: rules only ever add, and the
// order does not matter. An empty ACL grants nothing.
type ACL []Rule

// ParseACL decodes a JSON array of rules and validates it. Unknown fields
// are errors, so a misspelt key does not silently widen or narrow a rule.
func ParseACL(b []byte) (ACL, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var acl ACL
	if err := dec.Decode(&acl); err != nil {
		return nil, fmt.Errorf("acl: %w", err)
	}
	if err := acl.Validate(); err != nil {
		return nil, err
	}
	return acl, nil
}

// Validate checks every rule: account present, a name, at least one valid
// action.
func (acl ACL) Validate() error {
	for i, r := range acl {
		switch {
		case r.Account == nil:
			return fmt.Errorf(`acl: rule %d: "account" is required ("" for anonymous requests, "*" for any user)`, i)
		case r.Name == "":
			return fmt.Errorf(`acl: rule %d: "name" is required`, i)
		case len(r.Actions) == 0:
			return fmt.Errorf(`acl: rule %d: "actions" is required`, i)
		}
		for _, a := range r.Actions {
			if a == "" || strings.ContainsAny(a, ", :\t") {
				return fmt.Errorf("acl: rule %d: invalid action %q", i, a)
			}
		}
	}
	return nil
}

// Grant returns the actions of req that account may perform, in req's
// order ("" is the anonymous account).
func (acl ACL) Grant(account string, req auth.ResourceActions) []string {
	var out []string
	for _, r := range acl {
		if !r.matches(account, req) {
			continue
		}
		all := contains(r.Actions, auth.ActionAll)
		for _, a := range req.Actions {
			if (all || contains(r.Actions, a)) && !contains(out, a) {
				out = append(out, a)
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	// Keep req's order.
	ordered := make([]string, 0, len(out))
	for _, a := range req.Actions {
		if contains(out, a) && !contains(ordered, a) {
			ordered = append(ordered, a)
		}
	}
	return ordered
}

func (r Rule) matches(account string, req auth.ResourceActions) bool {
	if r.Account == nil {
		return false
	}
	if account == "" || *r.Account == "" {
		if account != "" || *r.Account != "" {
			return false
		}
	} else if !glob(*r.Account, "", account) {
		return false
	}
	typ := r.Type
	if typ == "" {
		typ = auth.TypeRepository
	}
	return glob(typ, "", req.Type) && glob(r.Name, account, req.Name)
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// errAccountVar marks ${account} in a pattern without an account.
var errAccountVar = errors.New("${account} without an account")

// glob matches s against pattern: "*" matches any run of bytes, "${account}"
// (when account is not "") matches account literally, anything else
// matches itself. Anonymous requests never match a pattern using
// ${account}.
func glob(pattern, account, s string) bool {
	elems, err := compile(pattern, account)
	if err != nil {
		return false
	}
	// Iterative wildcard matching with single backtrack point: O(len(s) *
	// len(elems)) at worst.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(elems) && !elems[p].star && elems[p].b == s[i]:
			p++
			i++
		case p < len(elems) && elems[p].star:
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(elems) && elems[p].star {
		p++
	}
	return p == len(elems)
}

type globElem struct {
	b    byte
	star bool
}

const accountVar = "${account}"

func compile(pattern, account string) ([]globElem, error) {
	var out []globElem
	for len(pattern) > 0 {
		if strings.HasPrefix(pattern, accountVar) {
			if account == "" {
				return nil, errAccountVar
			}
			for j := 0; j < len(account); j++ {
				out = append(out, globElem{b: account[j]})
			}
			pattern = pattern[len(accountVar):]
			continue
		}
		if pattern[0] == '*' {
			if len(out) == 0 || !out[len(out)-1].star {
				out = append(out, globElem{star: true})
			}
		} else {
			out = append(out, globElem{b: pattern[0]})
		}
		pattern = pattern[1:]
	}
	return out, nil
}
