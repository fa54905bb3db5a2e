package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
	"strings"
)

// UpdateFormField is the form field name v1 clients give every part of an
// atomic update. The server ignores it.
const UpdateFormField = "files"

// A Part is one file of an atomic update: the role it is for and its exact
// bytes.
type Part struct {
	Role string
	Data []byte
}

// WriteUpdate writes parts as the multipart/form-data body of an atomic
// update, as v1 clients do (storage/httpstore.go NewMultiPartMetaRequest):
// one part per role, field "files", filename = the role name with no
// extension, Content-Type application/octet-stream. It returns the
// Content-Type header value for the request. Roles must not contain '"',
// '\' or control characters (no valid role does).
func WriteUpdate(w io.Writer, parts []Part) (contentType string, err error) {
	mw := multipart.NewWriter(w)
	for _, p := range parts {
		if strings.ContainsAny(p.Role, "\"\\\r\n") || p.Role == "" {
			return "", fmt.Errorf("api: cannot send role name %q in a multipart filename", p.Role)
		}
		h := make(textproto.MIMEHeader, 2)
		h.Set("Content-Disposition", `form-data; name="`+UpdateFormField+`"; filename="`+p.Role+`"`)
		h.Set("Content-Type", "application/octet-stream")
		pw, err := mw.CreatePart(h)
		if err != nil {
			return "", err
		}
		if _, err := pw.Write(p.Data); err != nil {
			return "", err
		}
	}
	if err := mw.Close(); err != nil {
		return "", err
	}
	return mw.FormDataContentType(), nil
}

// ErrNoFilename is returned by PartRole for a part without a filename.
var ErrNoFilename = errors.New("api: multipart part has no filename")

// PartRole returns the role a part of an atomic update is for: the
// filename parameter of its Content-Disposition, read raw so that a "/"
// in a delegation name survives, with one optional ".json" suffix removed
// (protocol §5.2). multipart.Part.FileName must not be used: since Go 1.17
// it returns only the base name, which turns "targets/releases" into
// "releases". An empty or missing filename gives ErrNoFilename.
func PartRole(h textproto.MIMEHeader) (string, error) {
	cd := h.Get("Content-Disposition")
	if cd == "" {
		return "", ErrNoFilename
	}
	_, params, err := mime.ParseMediaType(cd)
	if err != nil {
		return "", ErrNoFilename
	}
	name := strings.TrimSuffix(params["filename"], ".json")
	if name == "" {
		return "", ErrNoFilename
	}
	return name, nil
}
