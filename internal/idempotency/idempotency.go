// Package idempotency stores the outcome of requests made with an
// Idempotency-Key, in the same transaction as their effect, so a retried
// request replays the first answer instead of running twice.
package idempotency

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/seal"
)

// Errors returned by Begin.
var (
	ErrInUse = &apperr.Error{Kind: apperr.IdempotencyInUse, Code: "idempotency_key_in_use",
		Message: "A request with this Idempotency-Key is still being processed; retry later."}
	ErrReused = &apperr.Error{Kind: apperr.IdempotencyMismatch, Code: "idempotency_key_reused",
		Message: "This Idempotency-Key was already used with a different request: send a new key with a new request, or this request's first body to get its answer again."}
	ErrKeyInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "idempotency_key_invalid",
		Message: "The Idempotency-Key header must be 1 to 255 printable ASCII characters."}
)

// Request identifies one idempotent request: who sent it (Scope, e.g. a
// merchant id), its key, and a fingerprint of method, path and body.
type Request struct {
	Scope       string
	Key         string
	Fingerprint []byte
}

// Response is a stored answer. Redacted is Body without the secret it
// carries (a new API key's, a webhook endpoint's), or nil when it carries
// none.
type Response struct {
	Status   int
	Body     []byte
	Redacted []byte
}

// SecretReplay is how long a replay may show the secret of a
// secret-bearing answer: long enough for a client to retry a request that
// timed out, short enough that a leaked Idempotency-Key is soon worth
// nothing. Later replays answer Redacted.
const SecretReplay = time.Hour

// Store reads and writes idempotency records, sealing stored bodies since
// some carry secrets shown only once.
type Store struct {
	seal *seal.Keyring
}

// NewStore returns a Store sealing bodies with keyring.
func NewStore(keyring *seal.Keyring) *Store { return &Store{seal: keyring} }

// validKey reports whether k is 1..255 printable ASCII characters.
func validKey(k string) bool {
	if len(k) < 1 || len(k) > 255 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// HeaderKey returns the Idempotency-Key a request sent, given the values
// of its header: "" when it sent none. A header sent empty (an unset
// variable in the client, say) or more than once is ErrKeyInvalid, as is
// a key that is not 1 to 255 printable ASCII characters: the client asked for a once-only request,
// and running it as one without a key would not be.
func HeaderKey(values []string) (string, error) {
	switch {
	case values == nil:
		return "", nil
	case len(values) > 1:
		return "", ErrKeyInvalid.WithMessage("Send one Idempotency-Key header, not several.")
	case values[0] == "":
		return "", ErrKeyInvalid.WithMessage("The Idempotency-Key header is empty: send 1 to 255 printable ASCII characters, or leave the header out.")
	case !validKey(values[0]):
		return "", ErrKeyInvalid
	}
	return values[0], nil
}

// Fingerprint hashes what makes two requests "the same". It is stored only
// sealed, never bare.
func Fingerprint(method, path string, canonicalBody []byte) []byte {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n", method, path)
	h.Write(canonicalBody)
	return h.Sum(nil)
}

// BindFingerprint ties a request's fingerprint to caller, the payer in a
// shared scope (a public checkout), so a stored answer can only ever match
// a request of that caller, on top of its scope.
func BindFingerprint(fingerprint []byte, caller string) []byte {
	h := sha256.New()
	fmt.Fprintf(h, "caller %d:%s\n", len(caller), caller)
	h.Write(fingerprint)
	return h.Sum(nil)
}

// Begin must run first in the transaction that will carry the effect. It
// takes a transaction-scoped advisory lock on (scope, key): when another
// transaction holds it, the first request is still running and Begin
// returns ErrInUse at once instead of waiting. Then it looks for a stored
// response: the same fingerprint returns it for replay (without its
// secret once SecretReplay has passed at now), another returns
// ErrReused. A nil response means "run the request, then call Save".
func (s *Store) Begin(ctx context.Context, tx pgx.Tx, r Request, now time.Time) (*Response, error) {
	// Both statements go in one round trip. The lookup is still a statement
	// of its own, run after the lock is taken, so under READ COMMITTED it
	// sees a row committed by whoever held the lock before us.
	b := &pgx.Batch{}
	b.Queue(tryLock, lockKey(r))
	b.Queue(selectRecord, r.Scope, r.Key)
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	var locked bool
	if err := br.QueryRow().Scan(&locked); err != nil {
		return nil, fmt.Errorf("idempotency lock: %w", err)
	}
	if !locked {
		return nil, ErrInUse
	}
	var (
		status           int
		sealed, redacted []byte
		created          time.Time
	)
	err := br.QueryRow().Scan(&status, &sealed, &redacted, &created)
	if cerr := br.Close(); err == nil && cerr != nil {
		err = cerr
	}
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("idempotency lookup: %w", err)
	}
	ad := aad(r)
	if redacted != nil && !now.Before(created.Add(SecretReplay)) {
		sealed, ad = redacted, redactedAAD(r)
	}
	plain, err := s.seal.Open(sealed, ad)
	if err != nil || len(plain) < sha256.Size {
		return nil, fmt.Errorf("open stored response: %w", err)
	}
	if !hmac.Equal(plain[:sha256.Size], r.Fingerprint) {
		return nil, ErrReused
	}
	return &Response{Status: status, Body: plain[sha256.Size:]}, nil
}

// Save stores resp for r through tx (the transaction of the effect, or a
// postgres.Writes flushed into it); it commits or rolls back with the
// effect.
// Both copies of a secret-bearing answer are sealed, never stored bare.
func (s *Store) Save(ctx context.Context, tx postgres.Execer, r Request, resp Response, now time.Time) error {
	seal := func(body, ad []byte) []byte {
		plain := append(append(make([]byte, 0, sha256.Size+len(body)), r.Fingerprint...), body...)
		return s.seal.Seal(plain, ad)
	}
	var redacted []byte
	if resp.Redacted != nil {
		redacted = seal(resp.Redacted, redactedAAD(r))
	}
	if _, err := tx.Exec(ctx, insertRecord, r.Scope, r.Key, resp.Status, seal(resp.Body, aad(r)), redacted, now); err != nil {
		return fmt.Errorf("save idempotent response: %w", err)
	}
	return nil
}

// ForgetSecrets replaces, in every record made before now minus
// SecretReplay, the secret-bearing answer by its copy without the secret,
// so a secret stays stored (sealed) little longer than it may be replayed.
// It runs in batches and returns how many records it changed.
func (s *Store) ForgetSecrets(ctx context.Context, db postgres.DBTX, now time.Time) (int64, error) {
	var total int64
	cutoff := now.Add(-SecretReplay)
	for {
		rows, err := db.Query(ctx, selectSecretBearing, cutoff)
		if err != nil {
			return total, fmt.Errorf("read secret-bearing answers: %w", err)
		}
		type rec struct {
			r        Request
			redacted []byte
		}
		recs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (rec, error) {
			var x rec
			err := row.Scan(&x.r.Scope, &x.r.Key, &x.redacted)
			return x, err
		})
		if err != nil {
			return total, fmt.Errorf("read secret-bearing answers: %w", err)
		}
		for _, x := range recs {
			// The copy is re-sealed for the main column's associated data.
			plain, err := s.seal.Open(x.redacted, redactedAAD(x.r))
			if err != nil {
				return total, fmt.Errorf("open answer without secret: %w", err)
			}
			if _, err := db.Exec(ctx, forgetSecret, x.r.Scope, x.r.Key, s.seal.Seal(plain, aad(x.r))); err != nil {
				return total, fmt.Errorf("forget secret: %w", err)
			}
			total++
		}
		if len(recs) < deleteBatch {
			return total, nil
		}
	}
}

// DeleteBefore removes records created before cutoff, in batches so the
// clean-up never holds long locks, and returns how many it removed.
func DeleteBefore(ctx context.Context, db postgres.DBTX, cutoff time.Time) (int64, error) {
	var total int64
	for {
		n, err := DeleteBatch(ctx, db, cutoff, deleteBatch)
		total += n
		if err != nil || n < deleteBatch {
			return total, err
		}
	}
}

// deleteBatch is how many records DeleteBefore removes per statement.
const deleteBatch = 5000

// DeleteBatch removes up to batch records created before cutoff in one
// short statement and returns how many it removed; call it until it
// returns less than batch.
func DeleteBatch(ctx context.Context, db postgres.DBTX, cutoff time.Time, batch int) (int64, error) {
	tag, err := db.Exec(ctx, deleteOld, cutoff, batch)
	if err != nil {
		return 0, fmt.Errorf("delete old idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}

func aad(r Request) []byte { return []byte(r.Scope + "\x00" + r.Key) }

// redactedAAD binds a record's copy without secret to its own column.
func redactedAAD(r Request) []byte { return []byte(r.Scope + "\x00" + r.Key + "\x00redacted") }

// lockKey folds (scope, key) into the 64-bit advisory lock space. A
// collision only makes an unrelated request see ErrInUse for the length of
// one transaction.
func lockKey(r Request) int64 {
	h := fnv.New64a()
	h.Write([]byte("idem\x00" + r.Scope + "\x00" + r.Key))
	return int64(h.Sum64())
}
