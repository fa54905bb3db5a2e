package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/changelist"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/passphrase"
	"github.com/notary-go/notary/trustpin"
	"github.com/notary-go/notary/update"
)

// Options configure a Repository. TrustDir is required; everything else
// has a default.
type Options struct {
	// TrustDir is the trust directory (v1 §7.1): private keys in
	// private/, cached metadata and staged changes in tuf/<gun>/. The
	// notary CLI's default is ~/.notary; Docker's is ~/.docker/trust.
	TrustDir string

	// ServerURL is the notary server, e.g. "https://notary.example.com:4443".
	// It is needed to initialize, publish, rotate keys and delete remote
	// data, and is where metadata is read from unless Remote is set.
	// Empty: no server; reads use the cache only.
	ServerURL string
	// HTTPClient sends every request to the server: TLS (CA, client
	// certificates), authentication (an AuthTransport), proxies and
	// timeouts are configured on its Transport. nil: http.DefaultClient.
	// An HTTP mirror gets the client given to MirrorRemote; an
	// AuthTransport never authenticates to a mirror, but a client without
	// one is the safer choice for it.
	HTTPClient *http.Client
	// API overrides the client built from ServerURL and HTTPClient.
	API *api.Client
	// Remote, when set, is where metadata is read from (ListTargets,
	// GetTargetByName, GetDelegationRoles) instead of the server: a static
	// mirror (MirrorRemote, update.DirRemote) or any update.Remote. Writes
	// still go to the server.
	Remote update.Remote

	// KeyStore holds the private keys. nil: the trust directory's
	// keystore.FileStore, opened on first use with Retriever. To keep
	// root (and other) keys on a PKCS#11 token, give a keystore.Routed
	// whose Token is a pkcs11.Store (package keystore/pkcs11) and whose
	// Default is the trust directory's FileStore; the CLI's --key-store
	// pkcs11 does that.
	KeyStore keystore.Service
	// Retriever supplies the passphrases of the default key store. nil:
	// passphrase.New with its defaults (NOTARY_*_PASSPHRASE, then a prompt
	// if stdin is a terminal).
	Retriever passphrase.Retriever

	// TrustPinning decides whether the first root downloaded for the GUN
	// is trusted (v1 §4.8). The zero value is trust on first use.
	TrustPinning trustpin.Config

	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// OnWarning receives problems that did not stop an operation: the
	// server could not be reached and cached data was used, a delegation
	// was skipped as invalid, a cache file could not be written. nil:
	// they are dropped.
	OnWarning func(error)
	// Progress receives progress reports of long operations (publishing
	// thousands of changes). nil: none.
	Progress func(Progress)
}

// Progress reports how far a long operation is: Done of Total units of
// Stage ("reading staged changes", "applying changes", "signing",
// "uploading"). Total is 0 when unknown.
type Progress struct {
	Stage string
	Done  int
	Total int
}

// A Repository is one trusted collection (GUN) seen from a trust
// directory: it stages changes, publishes them to the trust server, and
// reads verified targets from the server, a mirror or the cache. It is the
// Go counterpart of v0.7.0's client.Repository.
//
// Staging methods (AddTarget, RemoveTarget, the delegation methods,
// Witness) only write to the changelist on disk and need no network, as in
// v1. Publish, Initialize and RotateKey need the server. Reads fall back
// to the cache when the server cannot be reached and say so through
// Options.OnWarning.
//
// A Repository is safe for concurrent use, but operations that publish
// should not run concurrently on one GUN: the server accepts only one of
// them (the other gets a PublishConflictError).
type Repository struct {
	gun   string
	opts  Options
	cache *FileCache

	once    sync.Once
	api     *api.Client
	apiErr  error
	ksOnce  sync.Once
	ks      keystore.Service
	ksErr   error
	clOnce  sync.Once
	cl      changelist.List
	clErr   error
	pinOnce sync.Once
	pin     *trustpin.Checker
	pinErr  error
}

// NewRepository returns the Repository of gun. It checks the GUN (see
// ValidateGUN) but touches nothing on disk or on the network.
func NewRepository(gun string, opts Options) (*Repository, error) {
	if opts.TrustDir == "" {
		return nil, errors.New("client: Options.TrustDir is required")
	}
	cache, err := NewFileCache(opts.TrustDir, gun)
	if err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Repository{gun: gun, opts: opts, cache: cache}, nil
}

// GUN is the collection's name.
func (r *Repository) GUN() string { return r.gun }

// TrustDir is the trust directory the repository lives in.
func (r *Repository) TrustDir() string { return r.opts.TrustDir }

// Cache is the repository's metadata cache.
func (r *Repository) Cache() *FileCache { return r.cache }

func (r *Repository) now() time.Time { return r.opts.Now() }

func (r *Repository) warn(err error) {
	if r.opts.OnWarning != nil && err != nil {
		r.opts.OnWarning(err)
	}
}

func (r *Repository) progress(stage string, done, total int) {
	if r.opts.Progress != nil {
		r.opts.Progress(Progress{Stage: stage, Done: done, Total: total})
	}
}

// server returns the API client, or ErrNoServer.
func (r *Repository) server() (*api.Client, error) {
	r.once.Do(func() {
		switch {
		case r.opts.API != nil:
			if r.opts.API.GUN() != r.gun {
				r.apiErr = fmt.Errorf("client: Options.API is for %q, not %q", r.opts.API.GUN(), r.gun)
				return
			}
			r.api = r.opts.API
		case r.opts.ServerURL != "":
			r.api, r.apiErr = api.NewClient(r.opts.ServerURL, r.gun, api.ClientOptions{HTTPClient: r.opts.HTTPClient})
		default:
			r.apiErr = ErrNoServer
		}
	})
	return r.api, r.apiErr
}

// serverName names the server in messages.
func (r *Repository) serverName() string {
	if r.opts.ServerURL != "" {
		return r.opts.ServerURL
	}
	if r.opts.API != nil {
		return r.opts.API.URL("")
	}
	return "(no server)"
}

// KeyStore returns the key store, opening the trust directory's file store
// on first use.
func (r *Repository) KeyStore() (keystore.Service, error) {
	r.ksOnce.Do(func() {
		if r.opts.KeyStore != nil {
			r.ks = r.opts.KeyStore
			return
		}
		if err := os.MkdirAll(r.opts.TrustDir, dirPerm); err != nil {
			r.ksErr = err
			return
		}
		ret := r.opts.Retriever
		if ret == nil {
			ret = passphrase.New(passphrase.Options{})
		}
		r.ks, r.ksErr = keystore.OpenFile(r.opts.TrustDir, ret)
	})
	return r.ks, r.ksErr
}

// GetChangelist returns the staged, unpublished changes of the
// collection: <trust_dir>/tuf/<gun>/changelist, in v1's format.
func (r *Repository) GetChangelist() (changelist.List, error) {
	r.clOnce.Do(func() {
		tufDir := filepath.Join(r.opts.TrustDir, TUFDir)
		if err := os.MkdirAll(tufDir, dirPerm); err != nil {
			r.clErr = err
			return
		}
		root, err := os.OpenRoot(tufDir)
		if err != nil {
			r.clErr = err
			return
		}
		defer root.Close()
		// Created through the os.Root: a GUN can never reach outside tuf/.
		rel := filepath.Join(filepath.FromSlash(r.gun), ChangelistDir)
		if err := root.MkdirAll(rel, dirPerm); err != nil {
			r.clErr = err
			return
		}
		r.cl, r.clErr = changelist.OpenDir(filepath.Join(tufDir, rel))
	})
	return r.cl, r.clErr
}

// pinChecker returns the trust pinning checker for the GUN.
func (r *Repository) pinChecker() (*trustpin.Checker, error) {
	r.pinOnce.Do(func() {
		cfg := r.opts.TrustPinning
		if cfg.ReadFile == nil {
			cfg.ReadFile = os.ReadFile
		}
		r.pin, r.pinErr = cfg.Checker(r.gun)
	})
	return r.pin, r.pinErr
}

// DeleteTrustData removes the collection's local trust data (cached
// metadata and staged changes; private keys are kept, as in v1) and, with
// deleteRemote, every version of its metadata on the server. The remote
// deletion is done first, so that a failure leaves the local data in
// place.
func (r *Repository) DeleteTrustData(ctx context.Context, deleteRemote bool) error {
	if deleteRemote {
		c, err := r.server()
		if err != nil {
			return err
		}
		if err := c.Delete(ctx); err != nil {
			return serverError(r.serverName(), "delete", err)
		}
	}
	if err := removeGUNDir(r.opts.TrustDir, r.gun); err != nil {
		return fmt.Errorf("error clearing TUF repo data: %w", err)
	}
	return nil
}
