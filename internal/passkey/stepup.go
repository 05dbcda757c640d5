package passkey

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/jackc/pgx/v5"
)

// StepUpWindow is how long after a passkey log-in the session may add or
// remove passkeys without confirming with one again. Five minutes covers
// logging in and opening the passkey settings; a session left open longer,
// or one started with the password alone, must confirm.
const StepUpWindow = 5 * time.Minute

// Step-up actions a confirmation can approve.
const (
	ActionAddPasskey     = "add_passkey"
	ActionRemovePasskey  = "remove_passkey"
	ActionChangePassword = "change_password"
)

// removeAction is the step-up action of removing passkeyID: a confirmation
// for one passkey cannot remove another.
func removeAction(passkeyID string) string { return ActionRemovePasskey + ":" + passkeyID }

// StepUp is what shows that the person holding a session holds one of the
// user's passkeys now: a passkey log-in within StepUpWindow, or an
// assertion answering a BeginStepUp challenge for the action. For a
// merchant, the password re-checked by the caller for this very change
// also does: the dashboard's password stays a full log-in of its own, so
// re-entering it proves as much as logging in again.
type StepUp struct {
	PasskeyLoginAt time.Time // when a passkey log-in started the session; zero for a password log-in
	Assertion      []byte    // JSON of the PublicKeyCredential, or empty
	PasswordAt     time.Time // when the caller verified the merchant's password for this change; ignored for wallet users
}

func (su StepUp) empty() bool {
	return su.PasskeyLoginAt.IsZero() && su.PasswordAt.IsZero() && (len(su.Assertion) == 0 || string(su.Assertion) == "null")
}

// fresh reports whether t is a proof made within StepUpWindow of now.
func (s *Service) fresh(t time.Time) bool { return !t.IsZero() && !s.now().After(t.Add(StepUpWindow)) }

// BeginStepUp starts confirming a change to owner's passkeys or password:
// action is ActionAddPasskey, ActionChangePassword, or
// ActionRemovePasskey with the passkey's id. The
// challenge is bound to the user and the action. It returns
// ErrNotRegistered for a user without passkeys (who needs no step-up) and
// ErrNotFound for a passkey to remove that is not theirs.
func (s *Service) BeginStepUp(ctx context.Context, tx pgx.Tx, owner Owner, action, passkeyID string) (*protocol.CredentialAssertion, error) {
	if action == ActionRemovePasskey {
		keys, err := s.list(ctx, tx, owner.ID)
		if err != nil {
			return nil, err
		}
		if find(keys, passkeyID) == nil {
			return nil, ErrNotFound
		}
		action = removeAction(passkeyID)
	}
	return s.beginBound(ctx, tx, purposeStepUp, owner, Binding{Action: action})
}

// checkStepUp checks su for action on owner, whose passkeys are keys.
func (s *Service) checkStepUp(ctx context.Context, tx pgx.Tx, owner Owner, keys []Passkey, action string, su StepUp) error {
	if s.audience == Merchants && s.fresh(su.PasswordAt) {
		return nil
	}
	if len(su.Assertion) == 0 || string(su.Assertion) == "null" {
		if s.fresh(su.PasskeyLoginAt) {
			return nil
		}
		if s.audience == Merchants {
			return ErrMerchantStepUpRequired
		}
		return ErrStepUpRequired
	}
	err := s.verifyBound(ctx, tx, purposeStepUp, owner, keys, Binding{Action: action}, su.Assertion)
	if errors.Is(err, ErrConfirmationMismatch) {
		return ErrConfirmationMismatch.WithMessage("The passkey confirmation was made for another change to your passkeys.")
	}
	return err
}

// ConfirmStepUp checks, in tx, the step-up su of owner for action (such
// as ActionChangePassword) when owner has a passkey; an owner without one
// needs none. It returns a step-up error (ErrStepUpRequired, …).
func (s *Service) ConfirmStepUp(ctx context.Context, tx pgx.Tx, owner Owner, action string, su StepUp) error {
	keys, err := s.lockedList(ctx, tx, owner.ID)
	if err != nil || len(keys) == 0 {
		return err
	}
	return s.checkStepUp(ctx, tx, owner, keys, action, su)
}

// Delete removes owner's passkey passkeyID after the step-up su (any
// passkey of the owner may confirm, the one removed included) and returns
// it. It returns ErrNotFound or a step-up error.
func (s *Service) Delete(ctx context.Context, tx pgx.Tx, owner Owner, passkeyID string, su StepUp) (*Passkey, error) {
	keys, err := s.lockedList(ctx, tx, owner.ID)
	if err != nil {
		return nil, err
	}
	p := find(keys, passkeyID)
	if p == nil {
		return nil, ErrNotFound
	}
	if err := s.checkStepUp(ctx, tx, owner, keys, removeAction(passkeyID), su); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, s.q.deletePasskey, owner.ID, passkeyID); err != nil {
		return nil, fmt.Errorf("delete passkey: %w", err)
	}
	return p, nil
}

// Rename gives userID's passkey passkeyID a new name and returns it. It
// returns ErrNameInvalid or ErrNotFound.
func (s *Service) Rename(ctx context.Context, tx pgx.Tx, userID, passkeyID, name string) (*Passkey, error) {
	name, err := validName(strings.TrimSpace(name))
	if err != nil {
		return nil, err
	}
	var p Passkey
	err = tx.QueryRow(ctx, s.q.renamePasskey, userID, passkeyID, name).Scan(&p.ID, &p.UserID, &p.Name, &p.CreatedAt, &p.LastUsedAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ErrNotFound
	case err != nil:
		return nil, fmt.Errorf("rename passkey: %w", err)
	}
	return &p, nil
}

// lockedList lists userID's passkeys after taking the transaction's lock
// on them, so additions and removals of one user never interleave.
func (s *Service) lockedList(ctx context.Context, tx pgx.Tx, userID string) ([]Passkey, error) {
	if _, err := tx.Exec(ctx, s.q.lockPasskeys, userID); err != nil {
		return nil, fmt.Errorf("lock passkeys: %w", err)
	}
	return s.list(ctx, tx, userID)
}

func find(keys []Passkey, id string) *Passkey {
	for i := range keys {
		if keys[i].ID == id {
			return &keys[i]
		}
	}
	return nil
}

// validName accepts 1 to 100 characters without control characters (a
// name reaches e-mails).
func validName(name string) (string, error) {
	if n := utf8.RuneCountInString(name); n < 1 || n > 100 || strings.ContainsFunc(name, unicode.IsControl) {
		return "", ErrNameInvalid
	}
	return name, nil
}
