// Package passkey handles WebAuthn credentials with go-webauthn, for wallet
// users and, kept apart in tables of their own (audience.go), for
// merchants' dashboard log-ins: registering a passkey while logged in,
// logging in with one (discoverable, no password), confirming a payment
// or transfer with an assertion whose challenge is bound to its amount,
// currency and payee, and the step-up that adding or removing a passkey
// needs (stepup.go): a wallet user's once they have one, so a password
// alone can never change them; a merchant's always.
// Every ceremony's challenge is stored server-side, used once and expires
// soon; user verification is required and sign counters only move up.
package passkey

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/wire"
)

// Errors returned by this package.
var (
	ErrChallengeInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "passkey_challenge_invalid",
		Message: "This passkey request is unknown, already used or expired; start again."}
	ErrRegistrationInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "passkey_registration_invalid",
		Message: "The authenticator's answer could not be verified; no passkey was registered."}
	ErrAssertionInvalid = &apperr.Error{Kind: apperr.Unauthenticated, Code: "passkey_invalid",
		Message: "The passkey's answer could not be verified."}
	ErrSignCount = &apperr.Error{Kind: apperr.Unauthenticated, Code: "passkey_sign_count_invalid",
		Message: "The passkey's signature counter went backwards, which is what a cloned authenticator does; it was refused."}
	ErrConfirmationRequired = &apperr.Error{Kind: apperr.Forbidden, Code: "passkey_confirmation_required",
		Param: "passkey_assertion", Message: "Confirm this with your passkey: begin a confirmation, then send its assertion."}
	ErrConfirmationMismatch = &apperr.Error{Kind: apperr.Forbidden, Code: "passkey_confirmation_mismatch",
		Param: "passkey_assertion", Message: "The passkey confirmation was made for another amount, currency or payee."}
	ErrNotRegistered = &apperr.Error{Kind: apperr.Invalid, Code: "passkey_not_registered",
		Message: "This user has no passkey."}
	ErrNotFound    = &apperr.Error{Kind: apperr.NotFound, Code: "passkey_not_found", Message: "No such passkey."}
	ErrNameInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "passkey_name_invalid", Param: "name",
		Message: "A passkey name is 1 to 100 characters, without control characters."}
	ErrAlreadyRegistered = &apperr.Error{Kind: apperr.Conflict, Code: "passkey_already_registered",
		Message: "This authenticator is already registered."}
	ErrStepUpRequired = &apperr.Error{Kind: apperr.Forbidden, Code: "passkey_step_up_required", Param: "passkey_assertion",
		Message: "Confirm with one of your passkeys first: begin a confirmation with action add_passkey or remove_passkey and send its assertion as passkey_assertion (a passkey log-in in the last 5 minutes also does)."}
)

// Ceremony purposes, as stored with a challenge.
const (
	purposeRegister = "register"
	purposeLogin    = "login"
	purposeConfirm  = "confirm"
	purposeStepUp   = "stepup"
)

// Config is the relying party: its id (a domain), display name and the
// origins pages may run ceremonies from, and how long a challenge lives.
// MaxPerUser caps each user's passkeys (default 10).
type Config struct {
	RPID       string
	RPName     string
	Origins    []string
	Timeout    time.Duration
	MaxPerUser int
}

// Service runs WebAuthn ceremonies and stores passkeys of one audience.
type Service struct {
	wa       *webauthn.WebAuthn
	cfg      Config
	now      func() time.Time
	audience Audience
	q        queries
}

// New returns a Service of wallet users' passkeys for the relying party
// cfg (For gives the merchants' one).
func New(cfg Config, now func() time.Time) (*Service, error) {
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          cfg.RPID,
		RPDisplayName: cfg.RPName,
		RPOrigins:     cfg.Origins,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementRequired,
			UserVerification: protocol.VerificationRequired,
		},
		AttestationPreference: protocol.PreferNoAttestation,
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: cfg.Timeout, TimeoutUVD: cfg.Timeout},
			Registration: webauthn.TimeoutConfig{Timeout: cfg.Timeout, TimeoutUVD: cfg.Timeout},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("webauthn: %w", err)
	}
	if cfg.MaxPerUser == 0 {
		cfg.MaxPerUser = 10
	}
	return &Service{wa: wa, cfg: cfg, now: now, audience: Wallet, q: queriesOf(Wallet)}, nil
}

// Origins returns the origins ceremonies may come from.
func (s *Service) Origins() []string { return s.cfg.Origins }

// Owner is the wallet user or merchant a passkey belongs to.
type Owner struct {
	ID          string // usr_… or mer_…; also the WebAuthn user handle
	Email       string
	DisplayName string
}

// Passkey is a registered credential.
type Passkey struct {
	ID         string
	UserID     string // the owner's id
	Name       string
	CreatedAt  time.Time
	LastUsedAt *time.Time

	credential webauthn.Credential
	signCount  uint32
}

// ToWire returns p as the API shows it.
func (p *Passkey) ToWire() wire.Passkey {
	return wire.Passkey{ID: p.ID, Name: p.Name, CreatedAt: wire.Time(p.CreatedAt), LastUsedAt: wire.TimePtr(p.LastUsedAt)}
}

// user adapts an owner and their passkeys to webauthn.User.
type user struct {
	owner Owner
	keys  []Passkey
}

func (u *user) WebAuthnID() []byte          { return []byte(u.owner.ID) }
func (u *user) WebAuthnName() string        { return u.owner.Email }
func (u *user) WebAuthnDisplayName() string { return u.owner.DisplayName }
func (u *user) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, len(u.keys))
	for i := range u.keys {
		out[i] = u.keys[i].credential
	}
	return out
}

// BeginRegistration starts registering a new passkey for owner: it stores
// the challenge in tx and returns the options for
// navigator.credentials.create. Resident keys and user verification are
// required; the owner's existing passkeys are excluded. A step-up su
// given here (always needed for a merchant) is checked now and
// remembered with the challenge, so FinishRegistration needs no other; a
// wallet user may pass none and step up when finishing. It returns a
// step-up error (see FinishRegistration).
func (s *Service) BeginRegistration(ctx context.Context, tx pgx.Tx, owner Owner, su StepUp) (*protocol.CredentialCreation, error) {
	keys, err := s.list(ctx, tx, owner.ID)
	if err != nil {
		return nil, err
	}
	steppedUp := s.audience == Merchants || !su.empty()
	if steppedUp {
		if err := s.checkStepUp(ctx, tx, owner, keys, ActionAddPasskey, su); err != nil {
			return nil, err
		}
	}
	u := &user{owner: owner, keys: keys}
	creation, sess, err := s.wa.BeginRegistration(u,
		webauthn.WithExclusions(webauthn.Credentials(u.WebAuthnCredentials()).CredentialDescriptors()),
		webauthn.WithExtensions(webauthn.WithExtensionCredProps()))
	if err != nil {
		return nil, fmt.Errorf("begin registration: %w", err)
	}
	if err := s.saveChallenge(ctx, tx, purposeRegister, owner.ID, sess, nil, steppedUp); err != nil {
		return nil, err
	}
	return creation, nil
}

// FinishRegistration verifies the authenticator's answer (the JSON of the
// PublicKeyCredential from navigator.credentials.create) against the
// challenge BeginRegistration stored for owner, consumes that challenge
// and stores the passkey under name. Unless the registration was begun
// with a step-up, su must prove one (see StepUp) when owner is a merchant
// or already has a passkey; the owner's passkey changes are serialised,
// so two racing first registrations cannot both skip it. It returns ErrChallengeInvalid, ErrRegistrationInvalid,
// ErrAlreadyRegistered, ErrNameInvalid or a step-up error
// (ErrStepUpRequired, ErrConfirmationMismatch, ErrAssertionInvalid, …).
func (s *Service) FinishRegistration(ctx context.Context, tx pgx.Tx, owner Owner, name string, credential []byte, su StepUp) (*Passkey, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "Passkey"
	}
	name, err := validName(name)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(credential)
	if err != nil {
		return nil, ErrRegistrationInvalid.Wrap(err)
	}
	ch, err := s.takeChallenge(ctx, tx, purposeRegister, parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		return nil, err
	}
	if ch.userID != owner.ID {
		return nil, ErrChallengeInvalid
	}
	keys, err := s.lockedList(ctx, tx, owner.ID)
	if err != nil {
		return nil, err
	}
	if !ch.steppedUp && (s.audience == Merchants || len(keys) > 0) {
		if err := s.checkStepUp(ctx, tx, owner, keys, ActionAddPasskey, su); err != nil {
			return nil, err
		}
	}
	if len(keys) >= s.cfg.MaxPerUser {
		return nil, ErrRegistrationInvalid.WithMessage(fmt.Sprintf("A user may register at most %d passkeys.", s.cfg.MaxPerUser))
	}
	cred, err := s.wa.CreateCredential(&user{owner: owner, keys: keys}, ch.session, parsed)
	if err != nil {
		return nil, ErrRegistrationInvalid.Wrap(err)
	}
	if !cred.Flags.UserVerified {
		return nil, ErrRegistrationInvalid.WithMessage("The authenticator did not verify the user (PIN or biometrics are required).")
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	p := &Passkey{ID: id.NewAt("pk", now), UserID: owner.ID, Name: name, CreatedAt: now, credential: *cred,
		signCount: cred.Authenticator.SignCount}
	b, err := json.Marshal(cred)
	if err != nil {
		return nil, fmt.Errorf("encode credential: %w", err)
	}
	_, err = tx.Exec(ctx, s.q.insertPasskey, p.ID, owner.ID, cred.ID, b, int64(p.signCount), name, now)
	switch {
	case postgres.IsUniqueViolation(err, "passkeys_credential_id_key"),
		postgres.IsUniqueViolation(err, "merchant_passkeys_credential_id_key"):
		return nil, ErrAlreadyRegistered
	case err != nil:
		return nil, fmt.Errorf("insert passkey: %w", err)
	}
	return p, nil
}

// BeginLogin starts a passwordless log-in: it stores a challenge in tx
// and returns options for navigator.credentials.get with no allowed
// credentials, so the authenticator offers its discoverable passkeys.
func (s *Service) BeginLogin(ctx context.Context, tx pgx.Tx) (*protocol.CredentialAssertion, error) {
	assertion, sess, err := s.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, fmt.Errorf("begin login: %w", err)
	}
	if err := s.saveChallenge(ctx, tx, purposeLogin, "", sess, nil, false); err != nil {
		return nil, err
	}
	return assertion, nil
}

// FinishLogin verifies an assertion (the JSON of the PublicKeyCredential
// from navigator.credentials.get) against a challenge BeginLogin stored,
// consumes it, advances the passkey's sign counter and returns the
// owner's id. Only this Service's audience's challenges and passkeys are
// looked at, so another audience's passkey fails as an unknown one. It returns ErrChallengeInvalid, ErrAssertionInvalid or
// ErrSignCount.
func (s *Service) FinishLogin(ctx context.Context, tx pgx.Tx, assertion []byte) (string, error) {
	parsed, err := protocol.ParseCredentialRequestResponseBytes(assertion)
	if err != nil {
		return "", ErrAssertionInvalid.Wrap(err)
	}
	ch, err := s.takeChallenge(ctx, tx, purposeLogin, parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		return "", err
	}
	var found *user
	handler := func(rawID, userHandle []byte) (webauthn.User, error) {
		userID := string(userHandle)
		keys, err := s.list(ctx, tx, userID)
		if err != nil {
			return nil, err
		}
		if len(keys) == 0 {
			return nil, ErrNotFound
		}
		found = &user{owner: Owner{ID: userID}, keys: keys}
		return found, nil
	}
	_, cred, err := s.wa.ValidatePasskeyLogin(handler, ch.session, parsed)
	if err != nil {
		return "", ErrAssertionInvalid.Wrap(err)
	}
	if err := s.recordUse(ctx, tx, found.keys, cred); err != nil {
		return "", err
	}
	return found.owner.ID, nil
}

// Binding is what a confirmation approves: an action ("transfer",
// "payment"), an amount and a payee (e.g. "user:usr_…", "link:plink_…").
type Binding struct {
	Action string
	Amount money.Amount
	Payee  string
}

// PaymentBinding is what a wallet user confirms to pay amount to payment
// link linkID from the wallet: the checkout asks for it, and the wallet
// API begins the confirmation.
func PaymentBinding(linkID string, amount money.Amount) Binding {
	return Binding{Action: "payment", Amount: amount, Payee: "link:" + linkID}
}

// challengeFor is the confirmation challenge: SHA-256 over a server nonce,
// the user and every bound field, length-prefixed so no two bindings
// share an encoding.
func challengeFor(nonce []byte, userID string, b Binding) []byte {
	h := sha256.New()
	h.Write([]byte("paylink-confirm-v1"))
	for _, f := range [][]byte{nonce, []byte(userID), []byte(b.Action), []byte(b.Amount.Currency), []byte(b.Payee)} {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(f)))
		h.Write(n[:])
		h.Write(f)
	}
	var a [8]byte
	binary.BigEndian.PutUint64(a[:], uint64(b.Amount.Minor))
	h.Write(a[:])
	return h.Sum(nil)
}

// BeginConfirmation starts confirming b for owner, who must have a
// passkey: it stores a challenge derived from a fresh nonce and b, and
// returns options for navigator.credentials.get listing the owner's
// passkeys with user verification required. It returns ErrNotRegistered.
func (s *Service) BeginConfirmation(ctx context.Context, tx pgx.Tx, owner Owner, b Binding) (*protocol.CredentialAssertion, error) {
	return s.beginBound(ctx, tx, purposeConfirm, owner, b)
}

// beginBound stores a challenge of purpose bound to b for owner's passkeys.
func (s *Service) beginBound(ctx context.Context, tx pgx.Tx, purpose string, owner Owner, b Binding) (*protocol.CredentialAssertion, error) {
	keys, err := s.list(ctx, tx, owner.ID)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, ErrNotRegistered
	}
	nonce := make([]byte, 32)
	_, _ = rand.Read(nonce)
	assertion, sess, err := s.wa.BeginLogin(&user{owner: owner, keys: keys},
		webauthn.WithChallenge(challengeFor(nonce, owner.ID, b)),
		webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, fmt.Errorf("begin confirmation: %w", err)
	}
	if err := s.saveChallenge(ctx, tx, purpose, owner.ID, sess, &confirmation{nonce: nonce, Binding: b}, false); err != nil {
		return nil, err
	}
	return assertion, nil
}

// Required reports whether userID must confirm payments with a passkey,
// that is whether they have one.
func (s *Service) Required(ctx context.Context, db postgres.DBTX, userID string) (bool, error) {
	var n int
	if err := db.QueryRow(ctx, s.q.countPasskeys, userID).Scan(&n); err != nil {
		return false, fmt.Errorf("count passkeys: %w", err)
	}
	return n > 0, nil
}

// Confirm checks, in tx, that userID approved b with a passkey: when the
// user has none it does nothing; otherwise assertion must be the answer to
// a challenge BeginConfirmation made for exactly this user and binding,
// with user verification and a rising sign counter. The challenge is
// consumed with tx, so a committed confirmation cannot be replayed. It
// returns ErrConfirmationRequired, ErrChallengeInvalid,
// ErrConfirmationMismatch, ErrAssertionInvalid or ErrSignCount.
func (s *Service) Confirm(ctx context.Context, tx pgx.Tx, owner Owner, b Binding, assertion []byte) error {
	keys, err := s.list(ctx, tx, owner.ID)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return nil
	}
	if len(assertion) == 0 || string(assertion) == "null" {
		return ErrConfirmationRequired
	}
	return s.verifyBound(ctx, tx, purposeConfirm, owner, keys, b, assertion)
}

// verifyBound checks that assertion answers a challenge of purpose that
// beginBound made for exactly owner and b, signed by one of keys with
// user verification and a rising sign counter, and consumes the challenge
// with tx.
func (s *Service) verifyBound(ctx context.Context, tx pgx.Tx, purpose string, owner Owner, keys []Passkey, b Binding, assertion []byte) error {
	parsed, err := protocol.ParseCredentialRequestResponseBytes(assertion)
	if err != nil {
		return ErrAssertionInvalid.Wrap(err).WithParam("passkey_assertion")
	}
	ch, err := s.takeChallenge(ctx, tx, purpose, parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		return err
	}
	if ch.userID != owner.ID || ch.confirm == nil {
		return ErrChallengeInvalid
	}
	want := base64.RawURLEncoding.EncodeToString(challengeFor(ch.confirm.nonce, owner.ID, b))
	if ch.confirm.Binding != b || ch.session.Challenge != want {
		return ErrConfirmationMismatch
	}
	cred, err := s.wa.ValidateLogin(&user{owner: owner, keys: keys}, ch.session, parsed)
	if err != nil {
		return ErrAssertionInvalid.Wrap(err).WithParam("passkey_assertion")
	}
	return s.recordUse(ctx, tx, keys, cred)
}

// recordUse stores the credential's new sign counter and flags. The
// update only applies while the stored counter is below the new one (or
// both are zero, for authenticators without counters), so a replayed or
// cloned authenticator's answer fails even when two race.
func (s *Service) recordUse(ctx context.Context, tx pgx.Tx, keys []Passkey, cred *webauthn.Credential) error {
	if cred.Authenticator.CloneWarning {
		return ErrSignCount
	}
	var p *Passkey
	for i := range keys {
		if bytes.Equal(keys[i].credential.ID, cred.ID) {
			p = &keys[i]
		}
	}
	if p == nil {
		return ErrAssertionInvalid
	}
	if !cred.Flags.UserVerified {
		return ErrAssertionInvalid.WithMessage("The passkey did not verify the user (PIN or biometrics are required).")
	}
	b, err := json.Marshal(cred)
	if err != nil {
		return fmt.Errorf("encode credential: %w", err)
	}
	tag, err := tx.Exec(ctx, s.q.updateUse, p.ID, int64(cred.Authenticator.SignCount), b, s.now().UTC())
	if err != nil {
		return fmt.Errorf("update passkey: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return ErrSignCount
	}
	return nil
}

// List returns userID's passkeys, oldest first.
func (s *Service) List(ctx context.Context, db postgres.DBTX, userID string) ([]Passkey, error) {
	return s.list(ctx, db, userID)
}

func (s *Service) list(ctx context.Context, db postgres.DBTX, userID string) ([]Passkey, error) {
	rows, err := db.Query(ctx, s.q.selectPasskeys, userID)
	if err != nil {
		return nil, fmt.Errorf("list passkeys: %w", err)
	}
	keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Passkey, error) {
		var (
			p     Passkey
			raw   []byte
			count int64
		)
		if err := r.Scan(&p.ID, &p.UserID, &p.Name, &p.CreatedAt, &p.LastUsedAt, &raw, &count); err != nil {
			return p, err
		}
		if err := json.Unmarshal(raw, &p.credential); err != nil {
			return p, fmt.Errorf("decode passkey %s: %w", p.ID, err)
		}
		p.signCount = uint32(count)
		p.credential.Authenticator.SignCount = p.signCount
		return p, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list passkeys: %w", err)
	}
	return keys, nil
}
