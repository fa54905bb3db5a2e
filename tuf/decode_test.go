package tuf

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/notary-go/notary/canonicaljson"
	"github.com/notary-go/notary/keys"
)

// parseCase edits a valid file and expects a parse error.
type parseCase struct {
	name  string
	raw   string                 // replaces the file when set
	edit  func(m map[string]any) // edits a decoded copy of the file
	want  error                  // sentinel the error must match
	field string                 // MalformedError.Field, when want is ErrMalformed
}

func runParseCases(t *testing.T, valid []byte, parse func([]byte) error, cases []parseCase) {
	t.Helper()
	if err := parse(valid); err != nil {
		t.Fatalf("valid file refused: %v", err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := []byte(c.raw)
			if c.edit != nil {
				data = editJSON(t, valid, c.edit)
			}
			err := parse(data)
			if err == nil {
				t.Fatalf("parse accepted %s", data)
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if c.field != "" {
				var me *MalformedError
				if !errors.As(err, &me) || me.Field != c.field {
					t.Fatalf("err = %v, want a MalformedError at field %q", err, c.field)
				}
			}
		})
	}
}

// TestParseEnvelopeStructure: v1 §1.1 and the Notary 2018 audit finding on
// unsigned top-level fields.
func TestParseEnvelopeStructure(t *testing.T) {
	ks := newTestKeys(t)
	valid := signFile(t, timestampBody(t, 1), ks[RoleTimestamp])
	parse := func(b []byte) error { _, err := ParseEnvelope(b); return err }
	runParseCases(t, valid, parse, []parseCase{
		{name: "ExtraTopLevelField", edit: func(m map[string]any) { m["extra"] = "unsigned" }, want: ErrMalformed, field: "extra"},
		{name: "CaseVariantTopLevelField", edit: func(m map[string]any) { m["Signed"] = m["signed"] }, want: ErrMalformed, field: "Signed"},
		{name: "MissingSigned", edit: func(m map[string]any) { delete(m, "signed") }, want: ErrMalformed, field: "signed"},
		{name: "SignedNotObject", edit: func(m map[string]any) { m["signed"] = "x" }, want: ErrMalformed, field: "signed"},
		{name: "MissingSignatures", edit: func(m map[string]any) { delete(m, "signatures") }, want: ErrMalformed, field: "signatures"},
		{name: "NullSignatures", edit: func(m map[string]any) { m["signatures"] = nil }, want: ErrMalformed, field: "signatures"},
		{name: "EmptySignatures", edit: func(m map[string]any) { m["signatures"] = []any{} }, want: ErrNoSignatures},
		{name: "SignatureNotObject", edit: func(m map[string]any) { m["signatures"] = []any{"x"} }, want: ErrMalformed, field: "signatures[0]"},
		{name: "SignatureMissingKeyID", edit: func(m map[string]any) { delete(obj(m["signatures"].([]any)[0]), "keyid") }, want: ErrMalformed, field: "signatures[0].keyid"},
		{name: "SignatureMissingMethod", edit: func(m map[string]any) { delete(obj(m["signatures"].([]any)[0]), "method") }, want: ErrMalformed, field: "signatures[0].method"},
		{name: "SignatureMissingSig", edit: func(m map[string]any) { delete(obj(m["signatures"].([]any)[0]), "sig") }, want: ErrMalformed, field: "signatures[0].sig"},
		{name: "SignatureSigNotBase64", edit: func(m map[string]any) { obj(m["signatures"].([]any)[0])["sig"] = "!!" }, want: ErrMalformed, field: "signatures[0].sig"},
		{name: "SignatureSigUnpadded", edit: func(m map[string]any) { obj(m["signatures"].([]any)[0])["sig"] = "AAE" }, want: ErrMalformed, field: "signatures[0].sig"},
		{name: "SignatureKeyIDNotString", edit: func(m map[string]any) { obj(m["signatures"].([]any)[0])["keyid"] = json.Number("1") }, want: ErrMalformed, field: "signatures[0].keyid"},
		{name: "SignatureCaseVariantField", edit: func(m map[string]any) { obj(m["signatures"].([]any)[0])["KeyID"] = "x" }, want: ErrMalformed, field: "signatures[0].KeyID"},
		{name: "NotAnObject", raw: `[]`, want: ErrMalformed},
		{name: "TrailingData", raw: string(valid) + "{}", want: ErrMalformed},
		{name: "Empty", raw: ``, want: ErrMalformed},
	})
}

// TestParseRefusesDuplicateKeys: a key repeated anywhere is refused, where
// encoding/json would silently keep the last value.
func TestParseRefusesDuplicateKeys(t *testing.T) {
	ks := newTestKeys(t)
	valid := string(signFile(t, timestampBody(t, 1), ks[RoleTimestamp]))
	cases := map[string]string{
		"TopLevel":     strings.Replace(valid, `{"signed":`, `{"signatures":[],"signed":`, 1),
		"InSigned":     strings.Replace(valid, `"version":1`, `"version":1,"version":2`, 1),
		"Deep":         strings.Replace(valid, `"length":8`, `"length":8,"length":9`, 1),
		"InSignature":  strings.Replace(valid, `"method":"ecdsa"`, `"method":"ecdsa","method":"eddsa"`, 1),
		"EscapedAlias": strings.Replace(valid, `"version":1`, `"version":1,"versio\u006e":2`, 1),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			if data == valid {
				t.Fatal("test edit did not apply")
			}
			_, _, err := ParseTimestamp([]byte(data))
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "duplicate") {
				t.Fatalf("err = %v, want a duplicate key error", err)
			}
		})
	}
}

func TestParseEnvelopeLowercasesMethod(t *testing.T) {
	ks := newTestKeys(t)
	data := strings.Replace(string(signFile(t, timestampBody(t, 1), ks[RoleTimestamp])), `"method":"ecdsa"`, `"method":"ECDSA"`, 1)
	env, err := ParseEnvelope([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if got := env.Signatures[0].Method; got != "ecdsa" {
		t.Fatalf("method = %q, want ecdsa (v1 lowercases)", got)
	}
}

func TestParseEnvelopeKeepsSignedBytes(t *testing.T) {
	data := []byte(` {"signed" : {"b":1, "a":"x<y"} ,"signatures":[{"keyid":"k","method":"ecdsa","sig":"AA=="}]} `)
	env, err := ParseEnvelope(data)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(env.Signed), `{"b":1, "a":"x<y"}`; got != want {
		t.Fatalf("Signed = %q, want %q", got, want)
	}
}

// TestParseCommonFields: _type, version and expires (v1 §1.2).
func TestParseCommonFields(t *testing.T) {
	ks := newTestKeys(t)
	valid := signFile(t, timestampBody(t, 1), ks[RoleTimestamp])
	parse := func(b []byte) error { _, _, err := ParseTimestamp(b); return err }
	set := func(k string, v any) func(map[string]any) {
		return func(m map[string]any) { signedOf(m)[k] = v }
	}
	runParseCases(t, valid, parse, []parseCase{
		{name: "WrongType", edit: set("_type", "Snapshot"), want: ErrWrongType},
		{name: "TypeCaseDiffers", edit: set("_type", "timestamp"), want: ErrWrongType},
		{name: "TypeMissing", edit: func(m map[string]any) { delete(signedOf(m), "_type") }, want: ErrMalformed, field: "_type"},
		{name: "TypeNotString", edit: set("_type", json.Number("1")), want: ErrMalformed, field: "_type"},
		{name: "VersionZero", edit: set("version", json.Number("0")), want: ErrMalformed, field: "version"},
		{name: "VersionNegative", edit: set("version", json.Number("-1")), want: ErrMalformed, field: "version"},
		{name: "VersionOverflow", edit: set("version", json.Number("9223372036854775808")), want: ErrMalformed, field: "version"},
		{name: "VersionHuge", edit: set("version", json.Number("1000000000000000000000000")), want: ErrMalformed, field: "version"},
		{name: "VersionFraction", edit: set("version", json.Number("1.0")), want: ErrMalformed, field: "version"},
		{name: "VersionExponent", edit: set("version", json.Number("1e2")), want: ErrMalformed, field: "version"},
		{name: "VersionString", edit: set("version", "1"), want: ErrMalformed, field: "version"},
		{name: "VersionNull", edit: set("version", nil), want: ErrMalformed, field: "version"},
		{name: "VersionMissing", edit: func(m map[string]any) { delete(signedOf(m), "version") }, want: ErrMalformed, field: "version"},
		{name: "VersionCaseVariant", edit: set("Version", json.Number("7")), want: ErrMalformed, field: "Version"},
		{name: "ExpiresMissing", edit: func(m map[string]any) { delete(signedOf(m), "expires") }, want: ErrMalformed, field: "expires"},
		{name: "ExpiresNotRFC3339", edit: set("expires", "2030-01-02 03:04:05"), want: ErrMalformed, field: "expires"},
		{name: "ExpiresNoZone", edit: set("expires", "2030-01-02T03:04:05"), want: ErrMalformed, field: "expires"},
		{name: "ExpiresNull", edit: set("expires", nil), want: ErrMalformed, field: "expires"},
		{name: "ExpiresComma", edit: set("expires", "2030-01-02T03:04:05,5Z"), want: ErrMalformed, field: "expires"},
		{name: "ExpiresOffset24h", edit: set("expires", "2030-01-02T03:04:05+24:00"), want: ErrMalformed, field: "expires"},
		{name: "ExpiresLowercase", edit: set("expires", "2030-01-02t03:04:05z"), want: ErrMalformed, field: "expires"},
	})
	t.Run("VersionMaxInt64", func(t *testing.T) {
		ts, _, err := ParseTimestamp(editJSON(t, valid, set("version", json.Number("9223372036854775807"))))
		if err != nil || ts.Version != 1<<63-1 {
			t.Fatalf("got %v, %v", ts, err)
		}
	})
	t.Run("ExpiresAnyFraction", func(t *testing.T) {
		for _, e := range []string{"2030-01-02T03:04:05Z", "2030-01-02T03:04:05.1Z", "2116-07-03T17:56:36.027379879-05:00", "2030-01-02T03:04:05.123456789123+01:00"} {
			if _, _, err := ParseTimestamp(editJSON(t, valid, set("expires", e))); err != nil {
				t.Errorf("expires %q: %v", e, err)
			}
		}
	})
	t.Run("UnknownFieldsIgnored", func(t *testing.T) {
		if _, _, err := ParseTimestamp(editJSON(t, valid, set("spec_version", "1.0"))); err != nil {
			t.Fatal(err)
		}
	})
}

// TestParseRootRules: v1 §1.3 (isValidRootStructure, key IDs).
func TestParseRootRules(t *testing.T) {
	ks := newTestKeys(t)
	valid := signFile(t, ks.root(1), ks[RoleRoot])
	parse := func(b []byte) error { _, _, err := ParseRoot(b); return err }
	roles := func(m map[string]any) map[string]any { return obj(signedOf(m)["roles"]) }
	keysOf := func(m map[string]any) map[string]any { return obj(signedOf(m)["keys"]) }
	rootID := ks[RoleRoot].ID()
	var cases []parseCase
	for _, r := range BaseRoles {
		cases = append(cases,
			parseCase{name: "MissingRole/" + r, edit: func(m map[string]any) { delete(roles(m), r) }, want: ErrMalformed, field: "roles." + r},
			parseCase{name: "NullRole/" + r, edit: func(m map[string]any) { roles(m)[r] = nil }, want: ErrMalformed, field: "roles." + r},
		)
	}
	cases = append(cases,
		parseCase{name: "RolesMissing", edit: func(m map[string]any) { delete(signedOf(m), "roles") }, want: ErrMalformed, field: "roles"},
		parseCase{name: "ThresholdZero", edit: func(m map[string]any) { obj(roles(m)["root"])["threshold"] = json.Number("0") }, want: ErrMalformed, field: "roles.root.threshold"},
		parseCase{name: "ThresholdNegative", edit: func(m map[string]any) { obj(roles(m)["targets"])["threshold"] = json.Number("-1") }, want: ErrMalformed, field: "roles.targets.threshold"},
		parseCase{name: "ThresholdMissing", edit: func(m map[string]any) { delete(obj(roles(m)["targets"]), "threshold") }, want: ErrMalformed, field: "roles.targets.threshold"},
		parseCase{name: "KeyIDWithoutKey", edit: func(m map[string]any) { obj(roles(m)["snapshot"])["keyids"] = []any{strings.Repeat("ab", 32)} }, want: ErrMalformed, field: "roles.snapshot.keyids[0]"},
		parseCase{name: "KeyListedUnderWrongID", edit: func(m map[string]any) {
			k := keysOf(m)
			k[rootID], k[ks[RoleTargets].ID()] = k[ks[RoleTargets].ID()], k[rootID]
		}, want: ErrMalformed},
		parseCase{name: "KeyCarriesPrivate", edit: func(m map[string]any) { obj(obj(keysOf(m)[rootID])["keyval"])["private"] = "AAAA" }, want: ErrMalformed, field: "keys." + rootID + ".keyval.private"},
		parseCase{name: "KeyEmptyPublic", edit: func(m map[string]any) { obj(obj(keysOf(m)[rootID])["keyval"])["public"] = "" }, want: ErrMalformed, field: "keys." + rootID + ".keyval.public"},
		parseCase{name: "KeyMissingType", edit: func(m map[string]any) { delete(obj(keysOf(m)[rootID]), "keytype") }, want: ErrMalformed, field: "keys." + rootID + ".keytype"},
		parseCase{name: "KeysNullButListed", edit: func(m map[string]any) { signedOf(m)["keys"] = nil }, want: ErrMalformed, field: "roles.root.keyids[0]"},
		parseCase{name: "ConsistentSnapshotNotBool", edit: func(m map[string]any) { signedOf(m)["consistent_snapshot"] = "yes" }, want: ErrMalformed, field: "consistent_snapshot"},
		parseCase{name: "WrongType", edit: func(m map[string]any) { signedOf(m)["_type"] = "Targets" }, want: ErrWrongType},
	)
	runParseCases(t, valid, parse, cases)

	t.Run("ExtraRoleTolerated", func(t *testing.T) {
		r, _, err := ParseRoot(editJSON(t, valid, func(m map[string]any) {
			roles(m)["extra"] = map[string]any{"keyids": []any{}, "threshold": json.Number("1")}
		}))
		if err != nil || r.Roles["extra"] == nil {
			t.Fatalf("got %v, %v", r, err)
		}
	})
	t.Run("InvalidExtraRoleTolerated", func(t *testing.T) {
		r, _, err := ParseRoot(editJSON(t, valid, func(m map[string]any) {
			roles(m)["extra"] = map[string]any{"keyids": []any{"nope"}, "threshold": json.Number("0")}
		}))
		if err != nil || r.Roles["extra"] != nil {
			t.Fatalf("got %v, %v", r, err)
		}
	})
	t.Run("UnknownKeyTypeKept", func(t *testing.T) {
		k := keys.PublicKey{Type: "future", Public: []byte("opaque")}
		root := ks.root(1)
		root.Keys[k.ID()] = k
		r, _, err := ParseRoot(signFile(t, root, ks[RoleRoot]))
		if err != nil || r.Keys[k.ID()].Type != "future" {
			t.Fatalf("got %v, %v", r, err)
		}
	})
}

// TestParseTargetsDelegationRules: v1 §1.4 (isValidTargetsStructure).
func TestParseTargetsDelegationRules(t *testing.T) {
	ks := newTestKeys(t)
	dk := newKey(t, keys.ECDSA)
	body := targetsBody(1)
	body.Delegations.Keys[dk.ID()] = dk.Public()
	body.Delegations.Roles = []*DelegationRole{{Name: "targets/a", KeyIDs: []string{dk.ID()}, Threshold: 1, Paths: []string{""}}}
	body.Targets["file"] = fileMetaOf(t, "content")
	valid := signFile(t, body, ks[RoleTargets])
	parse := func(b []byte) error { _, _, err := ParseTargets(b, RoleTargets); return err }
	role0 := func(m map[string]any) map[string]any {
		return obj(obj(signedOf(m)["delegations"])["roles"].([]any)[0])
	}
	setName := func(n string) func(map[string]any) { return func(m map[string]any) { role0(m)["name"] = n } }
	runParseCases(t, valid, parse, []parseCase{
		{name: "InvalidName/Uppercase", edit: setName("targets/A"), want: ErrMalformed, field: "delegations.roles[0].name"},
		{name: "InvalidName/DotDot", edit: setName("targets/a/../b"), want: ErrMalformed, field: "delegations.roles[0].name"},
		{name: "InvalidName/TrailingSlash", edit: setName("targets/a/"), want: ErrMalformed, field: "delegations.roles[0].name"},
		{name: "InvalidName/BaseRole", edit: setName("snapshot"), want: ErrMalformed, field: "delegations.roles[0].name"},
		{name: "InvalidName/Wildcard", edit: setName("targets/*"), want: ErrMalformed, field: "delegations.roles[0].name"},
		{name: "NotDirectChild/Grandchild", edit: setName("targets/a/b"), want: ErrMalformed, field: "delegations.roles[0].name"},
		{name: "ThresholdZero", edit: func(m map[string]any) { role0(m)["threshold"] = json.Number("0") }, want: ErrMalformed, field: "delegations.roles[0].threshold"},
		{name: "KeyIDWithoutKey", edit: func(m map[string]any) { role0(m)["keyids"] = []any{"00"} }, want: ErrMalformed, field: "delegations.roles[0].keyids[0]"},
		{name: "NameMissing", edit: func(m map[string]any) { delete(role0(m), "name") }, want: ErrMalformed, field: "delegations.roles[0].name"},
		{name: "TooManyPaths", edit: func(m map[string]any) {
			paths := make([]any, MaxDelegationPaths+1)
			for i := range paths {
				paths[i] = fmt.Sprintf("p%d/", i)
			}
			role0(m)["paths"] = paths
		}, want: ErrMalformed, field: "delegations.roles[0].paths"},
		{name: "PathNotString", edit: func(m map[string]any) { role0(m)["paths"] = []any{json.Number("1")} }, want: ErrMalformed, field: "delegations.roles[0].paths[0]"},
		{name: "DuplicateDelegation", edit: func(m map[string]any) {
			d := obj(signedOf(m)["delegations"])
			d["roles"] = append(d["roles"].([]any), d["roles"].([]any)[0])
		}, want: ErrMalformed, field: "delegations.roles[1].name"},
		{name: "DelegationKeyUnderWrongID", edit: func(m map[string]any) {
			k := obj(obj(signedOf(m)["delegations"])["keys"])
			k["00"] = k[dk.ID()]
		}, want: ErrMalformed},
		{name: "TargetNegativeLength", edit: func(m map[string]any) { obj(obj(signedOf(m)["targets"])["file"])["length"] = json.Number("-1") }, want: ErrMalformed, field: `targets["file"].length`},
		{name: "TargetShortSHA256", edit: func(m map[string]any) { obj(obj(obj(signedOf(m)["targets"])["file"])["hashes"])["sha256"] = "AAAA" }, want: ErrMalformed, field: `targets["file"].hashes.sha256`},
		{name: "TargetShortSHA512", edit: func(m map[string]any) { obj(obj(obj(signedOf(m)["targets"])["file"])["hashes"])["sha512"] = "AAAA" }, want: ErrMalformed, field: `targets["file"].hashes.sha512`},
		{name: "TargetsNotObject", edit: func(m map[string]any) { signedOf(m)["targets"] = []any{} }, want: ErrMalformed, field: "targets"},
	})

	t.Run("DelegationsOfDelegatedRole", func(t *testing.T) {
		child := targetsBody(1)
		child.Delegations.Keys[dk.ID()] = dk.Public()
		child.Delegations.Roles = []*DelegationRole{{Name: "targets/a/b", KeyIDs: []string{dk.ID()}, Threshold: 1}}
		file := signFile(t, child, dk)
		if _, _, err := ParseTargets(file, "targets/a"); err != nil {
			t.Fatalf("targets/a may delegate targets/a/b: %v", err)
		}
		if _, _, err := ParseTargets(file, "targets/c"); !errors.Is(err, ErrMalformed) {
			t.Fatalf("targets/c may not delegate targets/a/b: %v", err)
		}
		if _, _, err := ParseTargets(file, RoleTargets); !errors.Is(err, ErrMalformed) {
			t.Fatalf("targets may not delegate a grandchild: %v", err)
		}
	})
	t.Run("InvalidOwnRoleName", func(t *testing.T) {
		if _, _, err := ParseTargets(valid, "targets/"); !errors.Is(err, ErrRoleName) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("NullsAccepted", func(t *testing.T) {
		// v1 can write null for targets, delegation keys, roles and paths.
		data := editJSON(t, valid, func(m map[string]any) {
			role0(m)["paths"] = nil
			signedOf(m)["targets"] = nil
		})
		if _, _, err := ParseTargets(data, RoleTargets); err != nil {
			t.Fatal(err)
		}
		data = editJSON(t, valid, func(m map[string]any) {
			signedOf(m)["delegations"] = map[string]any{"keys": nil, "roles": nil}
		})
		tg, _, err := ParseTargets(data, RoleTargets)
		if err != nil || tg.Delegations.Roles != nil || tg.Delegations.Keys != nil {
			t.Fatalf("got %+v, %v", tg, err)
		}
		data = editJSON(t, valid, func(m map[string]any) { delete(signedOf(m), "delegations") })
		if _, _, err := ParseTargets(data, RoleTargets); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("PathHashPrefixesDropped", func(t *testing.T) {
		data := editJSON(t, valid, func(m map[string]any) { role0(m)["path_hash_prefixes"] = []any{"ab"} })
		tg, _, err := ParseTargets(data, RoleTargets)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := CanonicalSigned(tg)
		if strings.Contains(string(c), "path_hash_prefixes") {
			t.Fatal("path_hash_prefixes kept")
		}
	})
	t.Run("UnknownHashIgnoredCustomCanonical", func(t *testing.T) {
		data := editJSON(t, valid, func(m map[string]any) {
			f := obj(obj(signedOf(m)["targets"])["file"])
			obj(f["hashes"])["md5"] = "AAAA"
			f["custom"] = map[string]any{"z": json.Number("1e3"), "a": "<&>"}
		})
		tg, _, err := ParseTargets(data, RoleTargets)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(*tg.Targets["file"].Custom); got != `{"a":"<&>","z":1000}` {
			t.Fatalf("custom = %s", got)
		}
	})
}

// TestParseSnapshotRules: v1 §1.5 (IsValidSnapshotStructure).
func TestParseSnapshotRules(t *testing.T) {
	ks := newTestKeys(t)
	valid := signFile(t, snapshotBody(t, 1), ks[RoleSnapshot])
	parse := func(b []byte) error { _, _, err := ParseSnapshot(b); return err }
	meta := func(m map[string]any) map[string]any { return obj(signedOf(m)["meta"]) }
	var cases []parseCase
	for _, r := range []string{RoleRoot, RoleTargets} {
		cases = append(cases,
			parseCase{name: "Missing/" + r, edit: func(m map[string]any) { delete(meta(m), r) }, want: ErrMalformed, field: "meta." + r},
			parseCase{name: "NoSHA256/" + r, edit: func(m map[string]any) { delete(obj(obj(meta(m)[r])["hashes"]), "sha256") }, want: ErrMalformed, field: "meta." + r + ".hashes"},
			parseCase{name: "ShortSHA256/" + r, edit: func(m map[string]any) { obj(obj(meta(m)[r])["hashes"])["sha256"] = "AAAA" }, want: ErrMalformed, field: "meta." + r + ".hashes.sha256"},
		)
	}
	cases = append(cases,
		parseCase{name: "MetaMissing", edit: func(m map[string]any) { delete(signedOf(m), "meta") }, want: ErrMalformed, field: "meta"},
		parseCase{name: "MetaNull", edit: func(m map[string]any) { signedOf(m)["meta"] = nil }, want: ErrMalformed, field: "meta"},
		parseCase{name: "WrongType", edit: func(m map[string]any) { signedOf(m)["_type"] = "Timestamp" }, want: ErrWrongType},
	)
	runParseCases(t, valid, parse, cases)
}

// TestParseTimestampRules: v1 §1.6 (IsValidTimestampStructure).
func TestParseTimestampRules(t *testing.T) {
	ks := newTestKeys(t)
	valid := signFile(t, timestampBody(t, 1), ks[RoleTimestamp])
	parse := func(b []byte) error { _, _, err := ParseTimestamp(b); return err }
	meta := func(m map[string]any) map[string]any { return obj(signedOf(m)["meta"]) }
	runParseCases(t, valid, parse, []parseCase{
		{name: "SnapshotMissing", edit: func(m map[string]any) { delete(meta(m), "snapshot") }, want: ErrMalformed, field: "meta.snapshot"},
		{name: "NoSHA256", edit: func(m map[string]any) { delete(obj(obj(meta(m)["snapshot"])["hashes"]), "sha256") }, want: ErrMalformed, field: "meta.snapshot.hashes"},
		{name: "HashesNull", edit: func(m map[string]any) { obj(meta(m)["snapshot"])["hashes"] = nil }, want: ErrMalformed, field: "meta.snapshot.hashes"},
		{name: "WrongType", edit: func(m map[string]any) { signedOf(m)["_type"] = "Root" }, want: ErrWrongType},
	})
}

func TestParseRoleDispatch(t *testing.T) {
	ks := newTestKeys(t)
	files := map[string][]byte{
		RoleRoot:      signFile(t, ks.root(1), ks[RoleRoot]),
		RoleTargets:   signFile(t, targetsBody(1), ks[RoleTargets]),
		"targets/a":   signFile(t, targetsBody(1), ks[RoleTargets]),
		RoleSnapshot:  signFile(t, snapshotBody(t, 1), ks[RoleSnapshot]),
		RoleTimestamp: signFile(t, timestampBody(t, 1), ks[RoleTimestamp]),
	}
	for role, data := range files {
		t.Run(role, func(t *testing.T) {
			m, _, err := ParseRole(role, data)
			if err != nil || m.Common().Type != TypeOf(role) {
				t.Fatalf("got %v, %v", m, err)
			}
			for other, od := range files {
				if TypeOf(other) != TypeOf(role) {
					if _, _, err := ParseRole(role, od); !errors.Is(err, ErrWrongType) {
						t.Errorf("%s file parsed as %s: err = %v", other, role, err)
					}
				}
			}
		})
	}
	if _, _, err := ParseRole("bogus", files[RoleRoot]); !errors.Is(err, ErrRoleName) {
		t.Fatalf("err = %v", err)
	}
}

func TestDecodeBodies(t *testing.T) {
	ks := newTestKeys(t)
	env, _, err := Sign(t.Context(), ks.root(3), LocalSigner(ks[RoleRoot]))
	if err != nil {
		t.Fatal(err)
	}
	r, err := DecodeRoot(env.Signed)
	if err != nil || r.Version != 3 {
		t.Fatalf("got %v, %v", r, err)
	}
	if _, err := DecodeTargets(env.Signed, RoleTargets); !errors.Is(err, ErrWrongType) {
		t.Fatalf("err = %v", err)
	}
}

func TestMalformedErrorNamesRoleAndField(t *testing.T) {
	err := &MalformedError{Role: "targets/a", Field: "delegations.roles[0].threshold", Reason: "invalid threshold 0"}
	want := "tuf: malformed targets/a metadata: delegations.roles[0].threshold: invalid threshold 0"
	if err.Error() != want {
		t.Fatalf("got %q, want %q", err.Error(), want)
	}
	var _ = canonicaljson.ErrDuplicateKey
}
