package tuf

import "github.com/notary-go/notary/canonicaljson"

// MaxSignatures bounds the signatures of one metadata file. Each one may
// cost a signature verification, and no role has anywhere near this many
// keys (v1 sets no bound; issue 10 item 2).
const MaxSignatures = 256

// The shapes below tell the parser which parts of a metadata file the
// decoder reads; everything else is checked as strictly but never built,
// so parsing a file costs memory in proportion to what the model keeps,
// not to what was sent (issue 10 item 1). Unknown members of "signed" are
// still covered by the signatures: they are hashed from the raw bytes.
var (
	scalar = &canonicaljson.Shape{Kind: canonicaljson.KindScalar}

	keyIDList = &canonicaljson.Shape{Kind: canonicaljson.KindArray, Elems: scalar}

	keyMapShape = &canonicaljson.Shape{Kind: canonicaljson.KindObject, Others: &canonicaljson.Shape{
		Kind: canonicaljson.KindObject,
		Members: map[string]*canonicaljson.Shape{
			"keytype": scalar,
			"keyval": {Kind: canonicaljson.KindObject, Members: map[string]*canonicaljson.Shape{
				"private": scalar, "public": scalar,
			}},
		},
	}}

	fileMetaShape = &canonicaljson.Shape{Kind: canonicaljson.KindObject, Members: map[string]*canonicaljson.Shape{
		"length": scalar,
		"hashes": {Kind: canonicaljson.KindObject, Others: scalar},
		"custom": {Kind: canonicaljson.KindRaw},
	}}

	fileMetaMap = &canonicaljson.Shape{Kind: canonicaljson.KindObject, Others: fileMetaShape}

	rootShape = &canonicaljson.Shape{Kind: canonicaljson.KindObject, Members: map[string]*canonicaljson.Shape{
		"_type": scalar, "version": scalar, "expires": scalar, "consistent_snapshot": scalar,
		"keys": keyMapShape,
		"roles": {Kind: canonicaljson.KindObject, Others: &canonicaljson.Shape{
			Kind:    canonicaljson.KindObject,
			Members: map[string]*canonicaljson.Shape{"keyids": keyIDList, "threshold": scalar},
		}},
	}}

	targetsShape = &canonicaljson.Shape{Kind: canonicaljson.KindObject, Members: map[string]*canonicaljson.Shape{
		"_type": scalar, "version": scalar, "expires": scalar,
		"targets": fileMetaMap,
		"delegations": {Kind: canonicaljson.KindObject, Members: map[string]*canonicaljson.Shape{
			"keys": keyMapShape,
			"roles": {Kind: canonicaljson.KindArray, Elems: &canonicaljson.Shape{
				Kind: canonicaljson.KindObject,
				Members: map[string]*canonicaljson.Shape{
					"name": scalar, "threshold": scalar, "keyids": keyIDList,
					"paths": {Kind: canonicaljson.KindArray, Elems: scalar},
				},
			}},
		}},
	}}

	metaShape = &canonicaljson.Shape{Kind: canonicaljson.KindObject, Members: map[string]*canonicaljson.Shape{
		"_type": scalar, "version": scalar, "expires": scalar,
		"meta": fileMetaMap,
	}}

	// unknownBody builds nothing of a body whose role is not known.
	unknownBody = &canonicaljson.Shape{Kind: canonicaljson.KindObject}

	signaturesShape = &canonicaljson.Shape{Kind: canonicaljson.KindArray, MaxLen: MaxSignatures, Elems: &canonicaljson.Shape{
		Kind:    canonicaljson.KindObject,
		Members: map[string]*canonicaljson.Shape{"keyid": scalar, "method": scalar, "sig": scalar},
	}}

	envelopeShapes = map[string]*canonicaljson.Shape{}
)

func init() {
	for role, body := range map[string]*canonicaljson.Shape{
		"": unknownBody, RoleRoot: rootShape, RoleTargets: targetsShape,
		RoleSnapshot: metaShape, RoleTimestamp: metaShape,
	} {
		envelopeShapes[role] = &canonicaljson.Shape{
			Kind:    canonicaljson.KindObject,
			Closed:  true, // v1 §1.1, Notary 2018 audit: no unsigned extras
			Members: map[string]*canonicaljson.Shape{"signed": body, "signatures": signaturesShape},
		}
	}
}

// bodyShape returns the shape of role's "signed" body.
func bodyShape(role string) *canonicaljson.Shape {
	return envelopeShape(role).Members["signed"]
}

// envelopeShape returns the shape of a whole metadata file of role.
func envelopeShape(role string) *canonicaljson.Shape {
	if s, ok := envelopeShapes[role]; ok {
		return s
	}
	if IsTargetsRole(role) {
		return envelopeShapes[RoleTargets]
	}
	return envelopeShapes[""]
}
