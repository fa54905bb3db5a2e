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

// Root certificates are valid for ten years (v1 §3.5). Package update does
// not check the certificate expiry of the root trusted already (the cached
// root) nor of the intermediate roots of a rotation chain, only of a root
// newly trusted (sheet §3.5), so a trust directory whose cached root
// outlived its certificate still reads, and follows a renewed root. This
// file warns about such a root, and renews the certificates (same root
// keys, new ten-year certificates) when such a collection is published
// (renewRootCerts), e.g. an old Notary 0.3 trust dir.

// RootCertExpiredWarning says that the certificates of the trusted root
// have expired: the trust data is still verified with it, but a client
// that does not trust it yet refuses it. Publishing with the root key
// renews the certificates.
type RootCertExpiredWarning struct {
	GUN     string
	Expired time.Time
}

func (w *RootCertExpiredWarning) Error() string {
	return fmt.Sprintf("the root certificate of %s expired on %s: the trust directory still trusts it, but new clients will not; a publish with the root key renews the certificate", w.GUN, w.Expired.UTC().Format(time.RFC3339))
}

// rootCertsValidity returns the latest NotAfter among the certificates of
// root's root role.
func rootCertsValidity(root *tuf.Root) (time.Time, error) {
	certs, err := trustpin.RootCerts(root)
	if err != nil {
		return time.Time{}, err
	}
	var latest time.Time
	for _, c := range certs {
		if c.Leaf.NotAfter.After(latest) {
			latest = c.Leaf.NotAfter
		}
	}
	if latest.IsZero() {
		return time.Time{}, errors.New("the root has no certificate")
	}
	return latest, nil
}

// warnIfRootCertExpired warns when the certificates of the trusted root
// have expired (see RootCertExpiredWarning).
func (r *Repository) warnIfRootCertExpired(root *tuf.Root, now time.Time) {
	if until, err := rootCertsValidity(root); err == nil && until.Before(now) {
		r.warn(&RootCertExpiredWarning{GUN: r.gun, Expired: until})
	}
}

// renewalTime says, for an update that failed because the root has
// expired, the moment just before (or before its certificates expired, if
// earlier), as of which the update can be verified so that a publish
// re-signs root (it expires within six months then) and renews its
// certificates.
func (r *Repository) renewalTime(err error) (time.Time, bool) {
	var exp *tuf.ExpiredError
	rootExpired := errors.As(err, &exp) && exp.Role == tuf.RoleRoot
	if err == nil || !rootExpired {
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

// freshForWrite checks the timestamp, snapshot and targets of a
// collection verified as of its root's expiry (renewalTime) against now,
// as a publish with a valid root checks them (expired ones are refused
// there too). Verifying as of the past would otherwise accept a timestamp
// (and the snapshot and targets it names) that expired since: a server
// could freeze the publisher on old data every current client refuses,
// and have the root key re-sign root on top of it (issue 10). An honest
// server serves a fresh timestamp on every read (v1 §4.2). Delegations
// are left to the usual rule: a current client skips expired ones.
func freshForWrite(repo *update.Verified, now time.Time) error {
	check := func(role string, expires time.Time) error {
		if err := tuf.CheckExpiry(role, expires, now); err != nil {
			return &update.RoleError{Role: role, File: update.FileName(role, ""), Err: err}
		}
		return nil
	}
	if repo.Timestamp != nil {
		if err := check(tuf.RoleTimestamp, repo.Timestamp.Expires); err != nil {
			return err
		}
	}
	if repo.Snapshot != nil {
		if err := check(tuf.RoleSnapshot, repo.Snapshot.Expires); err != nil {
			return err
		}
	}
	if tg := repo.Targets(tuf.RoleTargets); tg != nil {
		return check(tuf.RoleTargets, tg.Expires)
	}
	return nil
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
