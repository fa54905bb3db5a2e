package client

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/notary-go/notary/collection"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/trustpin"
	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

// Root certificates are valid for ten years (v1 §3.5). A trust directory
// whose cached root still has its original certificate stops loading after
// that: v0.7.0 (and package update) check the certificate expiry of the
// cached root like that of a new one. The sheet (§3.5) says expiry is not
// checked for the previously trusted root, and nothing else about the root
// is weaker for it: its signatures, its own expiry and those of every other
// role are still checked. So this package
//
//   - reads such a collection from the cache, with a warning, verifying
//     every signature as of a moment the certificate was valid and every
//     expiry against the real clock (readExpiredRootCert);
//   - renews the certificates (same root keys, new ten-year certificates)
//     when such a collection is published for the first time from the
//     trust directory (renewRootCerts), e.g. an old Notary 0.3 trust dir.

// RootCertExpiredWarning says that the cached root's certificates have
// expired, so the data shown is the cached data, not refreshed from the
// server. Publishing with the root key renews the certificates.
type RootCertExpiredWarning struct {
	GUN     string
	Expired time.Time
}

func (w *RootCertExpiredWarning) Error() string {
	return fmt.Sprintf("the root certificate of %s expired on %s: showing the trust data cached in the trust directory; a publish with the root key renews the certificate", w.GUN, w.Expired.UTC().Format(time.RFC3339))
}

// isCachedRootCertExpired reports whether an update failed only because
// the cached root's certificates have expired.
func isCachedRootCertExpired(err error) bool {
	var re *update.RoleError
	return errors.As(err, &re) && re.Role == tuf.RoleRoot && re.Cached && errors.Is(err, trustpin.ErrCertExpired)
}

// rootCertsValidity returns the latest NotAfter among the certificates of
// root's root role.
func rootCertsValidity(root *tuf.Root) (time.Time, error) {
	rk, err := root.RoleKeys(tuf.RoleRoot)
	if err != nil {
		return time.Time{}, err
	}
	var latest time.Time
	for _, id := range rk.KeyIDs {
		k, ok := rk.Keys[id]
		if !ok || !k.IsX509() {
			continue
		}
		leaf, _, err := trustpin.SplitBundle(k)
		if err != nil {
			continue
		}
		if leaf.NotAfter.After(latest) {
			latest = leaf.NotAfter
		}
	}
	if latest.IsZero() {
		return time.Time{}, errors.New("the root has no certificate")
	}
	return latest, nil
}

// readExpiredRootCert loads the cached collection whose root certificates
// have expired: signatures and hashes as of the last second the newest
// certificate was valid, expiries against now.
func (r *Repository) readExpiredRootCert(ctx context.Context, u *update.Updater, now time.Time) (*update.Repo, error) {
	data, err := r.cache.Load(tuf.RoleRoot)
	if err != nil {
		return nil, err
	}
	root, _, err := tuf.ParseRoot(data)
	if err != nil {
		return nil, err
	}
	if err := tuf.CheckExpiry(tuf.RoleRoot, root.Expires, now); err != nil {
		return nil, &update.RoleError{Role: tuf.RoleRoot, Cached: true, Err: err}
	}
	validUntil, err := rootCertsValidity(root)
	if err != nil {
		return nil, err
	}
	repo, err := u.Load(ctx, validUntil.Add(-time.Second))
	if err != nil {
		return nil, err
	}
	check := func(role string, expires time.Time) error {
		if err := tuf.CheckExpiry(role, expires, now); err != nil {
			return &update.RoleError{Role: role, Cached: true, Err: err}
		}
		return nil
	}
	if err := check(tuf.RoleTimestamp, repo.Timestamp.Expires); err != nil {
		return nil, err
	}
	if err := check(tuf.RoleSnapshot, repo.Snapshot.Expires); err != nil {
		return nil, err
	}
	for _, role := range repo.Roles() {
		if t := repo.Targets(role); t != nil {
			if err := check(role, t.Expires); err != nil {
				return nil, err
			}
		}
	}
	r.warn(&RootCertExpiredWarning{GUN: r.gun, Expired: validUntil})
	return repo, nil
}

// verifyCachedRoot checks a cached root for a first publish: well formed,
// certificates for the GUN, self-signed meeting its threshold. Expired
// certificates are accepted (the root is the trust directory's own pin)
// and reported with renew set.
func (r *Repository) verifyCachedRoot(data []byte) (root *tuf.Root, renew bool, err error) {
	set, err := update.NewTrustedSetFromCache(data, r.now(), nil, r.gun)
	if err == nil {
		root := set.Root()
		if until, verr := rootCertsValidity(root); verr == nil && until.Before(r.now().AddDate(0, 6, 0)) {
			return root, true, nil // renew certificates that expire within six months too
		}
		return root, false, nil
	}
	if !errors.Is(err, trustpin.ErrCertExpired) {
		return nil, false, err
	}
	root, env, perr := tuf.ParseRoot(data)
	if perr != nil {
		return nil, false, perr
	}
	validUntil, verr := rootCertsValidity(root)
	if verr != nil {
		return nil, false, err
	}
	if _, verr := update.NewTrustedSetFromCache(data, validUntil.Add(-time.Second), nil, r.gun); verr != nil {
		return nil, false, fmt.Errorf("%w (and it does not verify while its certificate was valid either: %w)", err, verr)
	}
	rk, verr := root.RoleKeys(tuf.RoleRoot)
	if verr == nil {
		verr = rk.Verify(env)
	}
	if verr != nil {
		return nil, false, verr
	}
	return root, true, nil
}

// renewalTime says, for an update that failed because the root or its
// certificate has expired, the moment just before, as of which the update
// can be verified so that a publish re-signs root (it expires within six
// months then) and renews its certificates.
func (r *Repository) renewalTime(err error) (time.Time, bool) {
	var exp *tuf.ExpiredError
	rootExpired := errors.As(err, &exp) && exp.Role == tuf.RoleRoot
	if err == nil || !rootExpired && !isCachedRootCertExpired(err) {
		return time.Time{}, false
	}
	data, lerr := r.cache.Load(tuf.RoleRoot)
	if lerr != nil {
		return time.Time{}, false
	}
	root, _, perr := tuf.ParseRoot(data)
	if perr != nil {
		return time.Time{}, false
	}
	t := root.Expires
	if until, cerr := rootCertsValidity(root); cerr == nil && until.Before(t) {
		t = until
	}
	if rootExpired && exp.Expires.Before(t) {
		t = exp.Expires
	}
	if !t.Before(r.now()) {
		return time.Time{}, false
	}
	return t.Add(-time.Second), true
}

// maybeRenewRootCerts renews the root certificates when they expire within
// six months, as root itself is re-signed then (v1 §1.9). Without a root
// key it only warns, unless they have already expired.
func (r *Repository) maybeRenewRootCerts(ctx context.Context, ks keystore.Service, coll *collection.Collection) error {
	until, err := rootCertsValidity(coll.Root())
	now := r.now()
	if err != nil || !until.Before(now.AddDate(0, 6, 0)) {
		return nil
	}
	err = r.renewRootCerts(ctx, ks, coll)
	if err != nil && until.After(now) {
		r.warn(err)
		return nil
	}
	return err
}

// selfSigned reports whether cert is signed by its own key, as the root
// certificates v1 clients make are (they are not CA certificates, so
// x509's CheckSignatureFrom would refuse them as parents).
func selfSigned(cert *x509.Certificate) bool {
	return bytes.Equal(cert.RawIssuer, cert.RawSubject) &&
		cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature) == nil
}

// renewRootCerts replaces the root's self-signed certificates with new
// ones for the same root keys, made with the keys the trust directory
// holds (v1 makes the same certificate on init: CN = GUN, ten years).
// Certificates issued by a CA are kept: only the CA can renew them, and
// consumers may pin that CA. The new root is signed by the same keys,
// under the old and new certificates.
func (r *Repository) renewRootCerts(ctx context.Context, ks keystore.Service, coll *collection.Collection) error {
	root := coll.Root()
	rk, err := root.RoleKeys(tuf.RoleRoot)
	if err != nil {
		return err
	}
	now := r.now()
	var renewed []keys.PublicKey
	var issued int // certificates from a CA, which only their CA can renew
	for _, id := range rk.KeyIDs {
		k, ok := rk.Keys[id]
		if !ok {
			continue
		}
		if leaf, _, err := trustpin.SplitBundle(k); err == nil && !selfSigned(leaf) {
			issued++
			renewed = append(renewed, k) // kept as it is
			continue
		}
		cid, err := k.CanonicalID()
		if err != nil {
			continue
		}
		priv, _, err := ks.Get(ctx, cid)
		if errors.Is(err, keystore.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		pub, err := collection.RootCertificateKey(priv, r.gun, now)
		if err != nil {
			return err
		}
		renewed = append(renewed, pub)
	}
	if issued > 0 {
		r.warn(fmt.Errorf("the root certificate of %s issued by a CA expires soon (or has expired): get a new one from the CA and rotate the root key (`notary key rotate %s root -k ...`)", r.gun, r.gun))
	}
	if len(renewed) == issued {
		if issued > 0 {
			return fmt.Errorf("the root certificates of %s expire within six months and none can be renewed here", r.gun)
		}
		return fmt.Errorf("the root certificate of %s has expired (or expires within six months) and no root key to renew it is in the trust directory", r.gun)
	}
	r.warn(fmt.Errorf("renewing the root certificate of %s (same root key, valid for ten years)", r.gun))
	return coll.ReplaceBaseKeys(tuf.RoleRoot, renewed...)
}

// recoverExpiredPin handles a cached root whose certificates have expired
// while the remote has moved on to a newer root (the publisher renewed
// it). Package update checks the certificate expiry of the cached root
// like that of a new one, so it cannot start from it; but only the new
// root's certificates need to be valid (sheet §3.5: expiry is not checked
// for the previously trusted root). So the chain from the cached root to
// the remote's root.json is verified here: each intermediate
// <v>.root.json signed by its predecessor's root keys meeting its
// threshold and by its own (tuf.VerifyRootRotation), the newest one also
// through the trust pinning with the cached root as predecessor
// (trustpin's ValidateRoot: valid certificates for the GUN, not expired),
// and not expired. The newest root then replaces the cached one, and the
// caller runs the ordinary update from it. It reports false when the
// remote has no newer root.
func (r *Repository) recoverExpiredPin(ctx context.Context, remote update.Remote, now time.Time) (bool, error) {
	cached, err := r.cache.Load(tuf.RoleRoot)
	if err != nil {
		return false, err
	}
	prev, _, err := tuf.ParseRoot(cached)
	if err != nil {
		return false, err
	}
	data, err := remote.GetMeta(ctx, tuf.RoleRoot, "", update.MaxMetaSize)
	if err != nil {
		return false, err
	}
	newest, env, err := tuf.ParseRoot(data)
	if err != nil {
		return false, err
	}
	if newest.Version <= prev.Version {
		return false, nil
	}
	if newest.Version-prev.Version > update.DefaultMaxRootRotations {
		return false, fmt.Errorf("root.json claims version %d, too far ahead of the trusted version %d", newest.Version, prev.Version)
	}
	cur := prev
	for v := prev.Version + 1; v < newest.Version; v++ {
		vd, err := remote.GetVersionedRoot(ctx, v, update.MaxMetaSize)
		if err != nil {
			return false, fmt.Errorf("fetching root version %d: %w", v, err)
		}
		vr, venv, err := tuf.ParseRoot(vd)
		if err == nil && vr.Version != v {
			err = fmt.Errorf("%s holds root version %d", update.VersionedRootName(v), vr.Version)
		}
		if err == nil {
			err = tuf.VerifyRootRotation(cur, venv, vr)
		}
		if err != nil {
			return false, fmt.Errorf("root version %d: %w", v, err)
		}
		cur = vr
	}
	pin, err := r.pinChecker()
	if err != nil {
		return false, err
	}
	if err := tuf.VerifyRootRotation(cur, env, newest); err != nil {
		return false, err
	}
	if err := pin.ValidateRoot(cur, newest, env, now); err != nil {
		return false, err
	}
	if err := tuf.CheckExpiry(tuf.RoleRoot, newest.Expires, now); err != nil {
		return false, err
	}
	if err := r.cache.Set(tuf.RoleRoot, data); err != nil {
		return false, err
	}
	r.warn(&Notice{Err: fmt.Errorf("the trusted root of %s had an expired certificate; moved to root version %d, signed by it", r.gun, newest.Version)})
	return true, nil
}
