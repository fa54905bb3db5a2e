//go:build cgo

package pkcs11

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/miekg/pkcs11"
)

// A module is one loaded and initialised PKCS#11 library, shared by every
// token connection of the process that uses the same file: a library is
// initialised once per process (C_Initialize), whoever asks.
type module struct {
	path string
	ctx  *pkcs11.Ctx
	refs int  // guarded by registry.mu
	own  bool // we called C_Initialize, so we call C_Finalize
}

// registry holds the modules and token connections of the process.
var registry = struct {
	mu      sync.Mutex
	modules map[string]*module
	tokens  map[tokenKey]*token
}{modules: map[string]*module{}, tokens: map[tokenKey]*token{}}

type tokenKey struct{ module, label string }

// openModuleLocked loads path, or takes another reference to it.
func openModuleLocked(path string) (*module, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: module %s: %w", path, err)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	if m := registry.modules[abs]; m != nil {
		m.refs++
		return m, nil
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("pkcs11: module: %w", err)
	}
	ctx := pkcs11.New(abs)
	if ctx == nil {
		return nil, fmt.Errorf("pkcs11: cannot load module %s: dlopen failed or it has no C_GetFunctionList", abs)
	}
	own := true
	if err := ctx.Initialize(); err != nil {
		if !isCode(err, pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
			ctx.Destroy()
			return nil, fmt.Errorf("pkcs11: C_Initialize of %s: %w", abs, err)
		}
		own = false // someone else in this process initialised it
	}
	m := &module{path: abs, ctx: ctx, refs: 1, own: own}
	registry.modules[abs] = m
	return m, nil
}

func (m *module) releaseLocked() {
	m.refs--
	if m.refs > 0 {
		return
	}
	delete(registry.modules, m.path)
	if m.own {
		_ = m.ctx.Finalize()
	}
	m.ctx.Destroy()
}

// A token is the process's connection to one token: its slot, a pool of
// sessions logged in as the user, and a cache of key handles. Stores that
// name the same module and label share it.
type token struct {
	mod   *module
	key   tokenKey
	pin   string
	refs  int           // guarded by registry.mu
	slots chan struct{} // one element per session lent out

	// objMu is held for writing while a call creates, changes or
	// destroys objects, and for reading by every other call. SoftHSM2's
	// file object store is not safe when one thread writes an object while
	// another reads the token (SoftHSMv2 issue #573: CKR_GENERAL_ERROR or
	// CKR_TEMPLATE_INCONSISTENT at random); keys are made far more rarely
	// than they sign, so real HSMs lose little. It also makes Add's check
	// for an existing key and its creation one step.
	objMu sync.RWMutex

	mu        sync.Mutex // guards the fields below
	closed    bool
	connected bool
	slot      uint
	gen       uint64 // incremented when every session is dropped
	idle      []pkcs11.SessionHandle
	keys      map[string]*keyEntry // by canonical ID; cleared on disconnect
}

// openToken returns the process's connection to cfg's token, connecting
// and logging in if it is the first.
func openToken(cfg Config) (*token, error) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	mod, err := openModuleLocked(cfg.Module)
	if err != nil {
		return nil, err
	}
	key := tokenKey{module: mod.path, label: cfg.TokenLabel}
	if t := registry.tokens[key]; t != nil {
		mod.releaseLocked() // t holds its own reference
		if subtle.ConstantTimeCompare([]byte(t.pin), []byte(cfg.PIN)) != 1 {
			return nil, &LoginError{Token: cfg.TokenLabel, Reason: ErrPINIncorrect,
				Err: errors.New("this process is logged in to the token with another PIN")}
		}
		t.refs++
		return t, nil
	}
	n := cfg.MaxSessions
	if n == 0 {
		n = DefaultMaxSessions
	}
	t := &token{mod: mod, key: key, pin: cfg.PIN, refs: 1, slots: make(chan struct{}, n)}
	t.mu.Lock()
	err = t.connectLocked()
	t.mu.Unlock()
	if err != nil {
		mod.releaseLocked()
		return nil, err
	}
	registry.tokens[key] = t
	return t, nil
}

// release drops a reference; the last one closes every session (which
// logs the process out) and releases the module.
func (t *token) release() {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	t.refs--
	if t.refs > 0 {
		return
	}
	delete(registry.tokens, t.key)
	t.mu.Lock()
	t.closed = true
	if t.connected {
		_ = t.mod.ctx.CloseAllSessions(t.slot)
	}
	t.connected, t.idle, t.keys = false, nil, nil
	t.gen++
	t.mu.Unlock()
	t.mod.releaseLocked()
}

// findSlot returns the slot of the one initialised token labelled t.key.label.
func (t *token) findSlot() (uint, error) {
	p := t.mod.ctx
	slots, err := p.GetSlotList(true)
	if err != nil {
		return 0, fmt.Errorf("pkcs11: C_GetSlotList: %w", err)
	}
	var found []string
	var match []uint
	for _, s := range slots {
		info, err := p.GetTokenInfo(s)
		if err != nil || info.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 {
			continue
		}
		found = append(found, info.Label)
		if info.Label == t.key.label {
			match = append(match, s)
		}
	}
	switch len(match) {
	case 0:
		return 0, &TokenNotFoundError{Module: t.mod.path, Label: t.key.label, Found: found}
	case 1:
		return match[0], nil
	}
	return 0, fmt.Errorf("pkcs11: %d tokens in %s are labelled %q; labels must be unique", len(match), t.mod.path, t.key.label)
}

const sessionFlags = pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION

// connectLocked finds the token, opens a session and logs in. The session
// stays in the pool, which keeps the login alive: PKCS#11 logs a process
// out when its last session on the token closes.
func (t *token) connectLocked() error {
	slot, err := t.findSlot()
	if err != nil {
		return err
	}
	p := t.mod.ctx
	if info, err := p.GetTokenInfo(slot); err == nil && info.Flags&pkcs11.CKF_USER_PIN_LOCKED != 0 {
		return &LoginError{Token: t.key.label, Reason: ErrPINLocked}
	}
	sh, err := p.OpenSession(slot, sessionFlags)
	if err != nil {
		return fmt.Errorf("pkcs11: C_OpenSession on token %q: %w", t.key.label, err)
	}
	if err := p.Login(sh, pkcs11.CKU_USER, t.pin); err != nil && !isCode(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
		_ = p.CloseSession(sh)
		le := &LoginError{Token: t.key.label, Err: err}
		switch {
		case isCode(err, pkcs11.CKR_PIN_INCORRECT, pkcs11.CKR_PIN_INVALID, pkcs11.CKR_PIN_LEN_RANGE):
			le.Reason = ErrPINIncorrect
		case isCode(err, pkcs11.CKR_PIN_LOCKED):
			le.Reason = ErrPINLocked
		}
		return le
	}
	t.slot, t.connected = slot, true
	t.idle = append(t.idle[:0], sh)
	t.keys = map[string]*keyEntry{}
	return nil
}

// disconnectLocked drops every session, including ones lent out: their
// calls fail with CKR_SESSION_HANDLE_INVALID and are retried on a new
// connection.
func (t *token) disconnectLocked() {
	if t.connected {
		_ = t.mod.ctx.CloseAllSessions(t.slot)
	}
	t.connected, t.idle, t.keys = false, nil, map[string]*keyEntry{}
	t.gen++
}

type session struct {
	h   pkcs11.SessionHandle
	gen uint64
}

func (t *token) acquire(ctx context.Context) (session, error) {
	if err := ctx.Err(); err != nil {
		return session{}, fmt.Errorf("pkcs11: %w", err)
	}
	select {
	case t.slots <- struct{}{}:
	case <-ctx.Done():
		return session{}, fmt.Errorf("pkcs11: waiting for a session: %w", ctx.Err())
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	s, err := t.acquireLocked()
	if err != nil {
		<-t.slots
	}
	return s, err
}

func (t *token) acquireLocked() (session, error) {
	if t.closed {
		return session{}, ErrClosed
	}
	if !t.connected {
		if err := t.connectLocked(); err != nil {
			return session{}, err
		}
	}
	if n := len(t.idle); n > 0 {
		h := t.idle[n-1]
		t.idle = t.idle[:n-1]
		return session{h: h, gen: t.gen}, nil
	}
	h, err := t.mod.ctx.OpenSession(t.slot, sessionFlags)
	if err != nil {
		if connectionLost(err) {
			t.disconnectLocked()
		}
		return session{}, fmt.Errorf("pkcs11: C_OpenSession on token %q: %w", t.key.label, err)
	}
	return session{h: h, gen: t.gen}, nil
}

// put returns a session after a call that ended with err. A session from
// before a disconnect is already closed.
func (t *token) put(s session, err error) {
	t.mu.Lock()
	switch {
	case s.gen != t.gen || t.closed:
	case connectionLost(err):
		t.disconnectLocked()
	default:
		t.idle = append(t.idle, s.h)
	}
	t.mu.Unlock()
	<-t.slots
}

// do runs fn with a logged-in session, holding objMu for writing if
// write is set. If fn fails because the device, session or login went
// away, do reconnects and runs fn once more.
func (t *token) do(ctx context.Context, write bool, fn func(p *pkcs11.Ctx, sh pkcs11.SessionHandle) error) error {
	// objMu before a session, never the other way round: a call holding a
	// session never waits for objMu.
	if write {
		t.objMu.Lock()
		defer t.objMu.Unlock()
	} else {
		t.objMu.RLock()
		defer t.objMu.RUnlock()
	}
	for attempt := 0; ; attempt++ {
		s, err := t.acquire(ctx)
		if err != nil {
			return err
		}
		err = fn(t.mod.ctx, s.h)
		t.put(s, err)
		if attempt == 0 && connectionLost(err) && ctx.Err() == nil {
			continue
		}
		return err
	}
}

// connectionLost reports errors after which the sessions (or the login)
// are gone and a reconnect may help.
func connectionLost(err error) bool {
	return isCode(err,
		pkcs11.CKR_DEVICE_REMOVED,
		pkcs11.CKR_DEVICE_ERROR,
		pkcs11.CKR_TOKEN_NOT_PRESENT,
		pkcs11.CKR_TOKEN_NOT_RECOGNIZED,
		pkcs11.CKR_SESSION_HANDLE_INVALID,
		pkcs11.CKR_SESSION_CLOSED,
		pkcs11.CKR_SLOT_ID_INVALID,
		pkcs11.CKR_USER_NOT_LOGGED_IN,
	)
}

// errNotLoggedIn reports CKR_USER_NOT_LOGGED_IN (so do reconnects) when
// the session has lost its login: private objects are then invisible, and
// a search would wrongly find nothing.
func errNotLoggedIn(p *pkcs11.Ctx, sh pkcs11.SessionHandle) error {
	info, err := p.GetSessionInfo(sh)
	if err != nil {
		return fmt.Errorf("pkcs11: C_GetSessionInfo: %w", err)
	}
	if info.State != pkcs11.CKS_RO_USER_FUNCTIONS && info.State != pkcs11.CKS_RW_USER_FUNCTIONS {
		return fmt.Errorf("pkcs11: session lost its login: %w", pkcs11.Error(pkcs11.CKR_USER_NOT_LOGGED_IN))
	}
	return nil
}

func isCode(err error, codes ...uint) bool {
	var e pkcs11.Error
	if !errors.As(err, &e) {
		return false
	}
	for _, c := range codes {
		if uint(e) == c {
			return true
		}
	}
	return false
}
