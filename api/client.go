package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/tuf"
)

// Size limits a client applies to responses (protocol §4.6, v1
// notary.MaxTimestampSize, MaxDownloadSize, httpstore.MaxKeySize,
// MaxErrorResponseSize).
const (
	// MaxKeySize caps a key endpoint response.
	MaxKeySize int64 = 256 << 10
	// MaxErrorSize caps an error response body: v1 clients read no more,
	// so the server keeps its error bodies below it.
	MaxErrorSize int64 = 1 << 10
)

// A Client talks to one notary server about one GUN. It is safe for
// concurrent use. Every method returns, besides transport errors wrapped in
// a *NetworkError:
//
//   - an error matching ErrNotFound for 404;
//   - a *ValidationError (errors.Is ErrInvalidUpdate) for a 400 whose body
//     holds one error with a validation detail, as v1 clients parse it;
//   - an *Error with the server's code for other error bodies (errors.Is
//     ErrVersion for 400 VERSION), wrapped in a *StatusError that matches
//     ErrRejected (4xx), ErrUnauthorized (401) or ErrUnavailable (5xx and
//     anything else unexpected).
//
// A response larger than the caller's limit is an error matching
// ErrTooLarge, never a truncated body.
type Client struct {
	base *url.URL
	gun  string
	hc   *http.Client
}

// ClientOptions configure a Client. The zero value is usable.
type ClientOptions struct {
	// HTTPClient sends the requests; nil means http.DefaultClient. TLS,
	// auth and timeouts are configured on it (its Transport).
	HTTPClient *http.Client
}

// NewClient returns a Client for gun on the server at serverURL (scheme,
// host and optional path prefix, e.g. "https://notary.example.com:4443").
func NewClient(serverURL, gun string, opts ClientOptions) (*Client, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return nil, fmt.Errorf("api: bad server URL: %w", err)
	}
	if !u.IsAbs() || u.Host == "" {
		return nil, fmt.Errorf("api: server URL %q is not absolute", serverURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	u.RawQuery, u.Fragment = "", ""
	hc := opts.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: u, gun: gun, hc: hc}, nil
}

// GUN is the collection this client addresses.
func (c *Client) GUN() string { return c.gun }

// URL returns the absolute URL of an API path (e.g. MetaPath(gun, role)).
func (c *Client) URL(path string) string {
	u := *c.base
	u.Path += path
	return u.String()
}

// limitFor returns the cap for a file of role: the caller's maxSize (such
// as a length a trusted parent claims), but never more than the role's
// limit (tuf.ReadLimit), which also applies when the caller gives none.
func limitFor(role string, maxSize int64) int64 { return tuf.ReadLimit(role, maxSize) }

// GetMeta fetches the current metadata of role ({role}.json). maxSize is
// the largest body accepted, never more than tuf.MaxSize(role), which
// applies when maxSize <= 0.
func (c *Client) GetMeta(ctx context.Context, role string, maxSize int64) ([]byte, error) {
	return c.get(ctx, MetaPath(c.gun, role), role, limitFor(role, maxSize))
}

// GetMetaByHash fetches the file of role whose SHA-256 is sha256hex
// ({role}.{hex}.json); maxSize as in GetMeta (normally the length the
// parent metadata records). The caller checks the bytes against the hash.
func (c *Client) GetMetaByHash(ctx context.Context, role, sha256hex string, maxSize int64) ([]byte, error) {
	return c.get(ctx, MetaHashPath(c.gun, role, sha256hex), role, limitFor(role, maxSize))
}

// GetMetaByVersion fetches the given version of role
// ({version}.{role}.json); maxSize as in GetMeta.
func (c *Client) GetMetaByVersion(ctx context.Context, role string, version int64, maxSize int64) ([]byte, error) {
	return c.get(ctx, MetaVersionPath(c.gun, role, version), role, limitFor(role, maxSize))
}

// GetKey returns the server-managed public key of role ("snapshot" or
// "timestamp"), which the server creates on first request.
func (c *Client) GetKey(ctx context.Context, role string) (keys.PublicKey, error) {
	return c.key(ctx, http.MethodGet, role)
}

// RotateKey asks the server for a new key for role ("snapshot" or
// "timestamp"). The key is not used until a root listing it is published.
func (c *Client) RotateKey(ctx context.Context, role string) (keys.PublicKey, error) {
	return c.key(ctx, http.MethodPost, role)
}

func (c *Client) get(ctx context.Context, path, role string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL(path), nil)
	if err != nil {
		return nil, err
	}
	return c.do(req, role, limit)
}

func (c *Client) key(ctx context.Context, method, role string) (keys.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.URL(KeyPath(c.gun, role)), nil)
	if err != nil {
		return keys.PublicKey{}, err
	}
	body, err := c.do(req, role+" key", MaxKeySize)
	if err != nil {
		return keys.PublicKey{}, err
	}
	var k keys.PublicKey
	if err := json.Unmarshal(body, &k); err != nil {
		return keys.PublicKey{}, fmt.Errorf("api: server returned a bad %s key: %w", role, err)
	}
	return k, nil
}

// Publish uploads parts as one atomic update (POST /v2/{gun}/_trust/tuf/).
// Either all parts are stored or none is; the server adds a new timestamp
// (and a snapshot when it manages that key).
func (c *Client) Publish(ctx context.Context, parts []Part) error {
	var buf bytes.Buffer
	ct, err := WriteUpdate(&buf, parts)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL(UpdatePath(c.gun)), bytes.NewReader(buf.Bytes()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", ct)
	_, err = c.do(req, "update", 0)
	return err
}

// Delete removes every version of every role of the GUN from the server.
func (c *Client) Delete(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, c.URL(UpdatePath(c.gun)), nil)
	if err != nil {
		return err
	}
	_, err = c.do(req, "delete", 0)
	return err
}

// Ping sends GET /v2/, the request v1 clients start with (it triggers an
// auth challenge when the server requires one).
func (c *Client) Ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL(BasePath), nil)
	if err != nil {
		return err
	}
	_, err = c.do(req, "ping", MaxKeySize)
	return err
}

// A Change is one changefeed record (protocol §5.5). ID is a decimal
// string; Category is "update" or "deletion".
type Change struct {
	ID        string `json:"ID"`
	CreatedAt string `json:"CreatedAt"`
	GUN       string `json:"GUN"`
	Version   int64  `json:"Version"`
	SHA256    string `json:"SHA256"`
	Category  string `json:"Category"`
}

// Changefeed is a changefeed response.
type Changefeed struct {
	Count   int      `json:"count"`
	Records []Change `json:"records"`
}

// maxChangefeedSize caps a changefeed response (records are ~250 bytes and
// a page at most MaxInt32 records, but pages are normally small).
const maxChangefeedSize int64 = 64 << 20

// Changefeed pages through this GUN's changefeed. changeID "" or "0" starts
// at the beginning; records is the page size (0 means the server's
// default of 100, negative pages backwards from changeID, "-1" meaning the
// end). Records are always oldest first.
func (c *Client) Changefeed(ctx context.Context, changeID string, records int) (*Changefeed, error) {
	return c.changefeed(ctx, ChangefeedPath(c.gun), changeID, records)
}

// GlobalChangefeed is Changefeed over every GUN.
func (c *Client) GlobalChangefeed(ctx context.Context, changeID string, records int) (*Changefeed, error) {
	return c.changefeed(ctx, GlobalChangefeedPath, changeID, records)
}

func (c *Client) changefeed(ctx context.Context, path, changeID string, records int) (*Changefeed, error) {
	q := url.Values{}
	q.Set("change_id", changeID)
	q.Set("records", strconv.Itoa(records))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL(path)+"?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	body, err := c.do(req, "changefeed", maxChangefeedSize)
	if err != nil {
		return nil, err
	}
	var cf Changefeed
	if err := json.Unmarshal(body, &cf); err != nil {
		return nil, fmt.Errorf("api: bad changefeed response: %w", err)
	}
	return &cf, nil
}

// A NetworkError is a failure to get any response from the server.
type NetworkError struct {
	Op  string
	Err error
}

func (e *NetworkError) Error() string { return fmt.Sprintf("api: %s: %v", e.Op, e.Err) }
func (e *NetworkError) Unwrap() error { return e.Err }

// A StatusError is an unsuccessful HTTP response. Err is the *Error the
// body held (nil if it held none that could be read).
type StatusError struct {
	Resource string
	Status   int
	Err      *Error
}

func (e *StatusError) Error() string {
	switch {
	case e.Err != nil:
		return fmt.Sprintf("api: %s: server returned %d: %v", e.Resource, e.Status, e.Err)
	default:
		return fmt.Sprintf("api: %s: server returned %d", e.Resource, e.Status)
	}
}

// Unwrap exposes the *Error from the body.
func (e *StatusError) Unwrap() error {
	if e.Err == nil {
		return nil
	}
	return e.Err
}

// Is classifies the status: ErrNotFound, ErrUnauthorized, ErrRejected or
// ErrUnavailable.
func (e *StatusError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrRejected:
		return e.Status >= 400 && e.Status < 500 && e.Status != http.StatusNotFound && e.Status != http.StatusUnauthorized
	case ErrUnavailable:
		return e.Status < 400 || e.Status >= 500
	}
	return false
}

// A TooLargeError is a response body beyond the allowed size.
type TooLargeError struct {
	Resource string
	Limit    int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("api: %s: response exceeds %d bytes", e.Resource, e.Limit)
}

// Unwrap makes errors.Is(err, ErrTooLarge) true.
func (e *TooLargeError) Unwrap() error { return ErrTooLarge }

// do sends req and returns the body of a 200 response, at most limit
// bytes (0: the body is discarded).
func (c *Client) do(req *http.Request, resource string, limit int64) ([]byte, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, &NetworkError{Op: req.Method + " " + resource, Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, statusError(resp, resource)
	}
	if limit <= 0 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxKeySize))
		return nil, nil
	}
	if resp.ContentLength > limit {
		return nil, &TooLargeError{Resource: resource, Limit: limit}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, &NetworkError{Op: req.Method + " " + resource, Err: err}
	}
	if int64(len(body)) > limit {
		return nil, &TooLargeError{Resource: resource, Limit: limit}
	}
	return body, nil
}

// statusError builds the error for a non-200 response the way v1's
// translateStatusToError does, keeping the server's code.
func statusError(resp *http.Response, resource string) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, MaxErrorSize))
	se := &StatusError{Resource: resource, Status: resp.StatusCode}
	var body ErrorBody
	if json.Unmarshal(raw, &body) == nil && len(body.Errors) == 1 {
		item := body.Errors[0]
		if resp.StatusCode == http.StatusBadRequest && len(item.Detail) > 0 {
			var ve ValidationError
			if json.Unmarshal(item.Detail, &ve) == nil {
				return &ve
			}
		}
		e := &Error{Code: item.Code, Message: item.Message}
		if len(item.Detail) > 0 {
			var d any
			if json.Unmarshal(item.Detail, &d) == nil {
				e.Detail = d
			}
		}
		se.Err = e
	}
	return se
}

// IsNotFound reports whether err means the resource does not exist.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
