package walletapp

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/passkey"
	"github.com/paylink/paylink/internal/wallet"
	"github.com/paylink/paylink/internal/walletsecurity"
	"github.com/paylink/paylink/internal/wire"
)

func (s *Server) listPasskeys(c *gin.Context) error {
	p, err := edge.ParseList(c, "pk")
	if err != nil {
		return err
	}
	keys, err := s.passkeys.List(c.Request.Context(), s.db.Pool, CurrentSession(c).User.ID)
	if err != nil {
		return err
	}
	page, more := passkey.Page(keys, p.StartingAfter, p.Limit)
	c.PureJSON(http.StatusOK, edge.ListOf(page, more, (*passkey.Passkey).ToWire))
	return nil
}

// passkeyRegisterBegin answers the options for navigator.credentials.create
// ({"publicKey": …}); the challenge is kept server-side.
func (s *Server) passkeyRegisterBegin(c *gin.Context) error {
	if err := edge.Decode(c, &emptyRequest{}); err != nil {
		return err
	}
	u := &CurrentSession(c).User
	return s.edge.Mutate(c, u.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		creation, err := s.passkeys.BeginRegistration(ctx, tx, u.PasskeyOwner(), passkey.StepUp{})
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, creation, nil
	})
}

type passkeyRegisterRequest struct {
	Name       string          `json:"name"`
	Credential json.RawMessage `json:"credential"`
	// PasskeyAssertion is the step-up a user with a passkey needs.
	PasskeyAssertion json.RawMessage `json:"passkey_assertion"`
}

// StepUp is the session's proof of holding a passkey now: its passkey
// log-in time, and the request's assertion.
func StepUp(sess *wallet.Session, assertion json.RawMessage) passkey.StepUp {
	su := passkey.StepUp{Assertion: assertion}
	if sess.Method == wallet.MethodPasskey {
		su.PasskeyLoginAt = sess.CreatedAt
	}
	return su
}

// passkeyRegisterFinish verifies the new credential and stores it, after
// the step-up when the user already has a passkey, and tells the user.
func (s *Server) passkeyRegisterFinish(c *gin.Context) error {
	var in passkeyRegisterRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	sess := CurrentSession(c)
	u := &sess.User
	return s.edge.Mutate(c, u.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		p, err := s.passkeys.FinishRegistration(ctx, tx, u.PasskeyOwner(), in.Name, in.Credential, StepUp(sess, in.PasskeyAssertion))
		if err != nil {
			return 0, nil, err
		}
		if err := walletsecurity.NotifyPasskey(ctx, tx, u, walletsecurity.NotePasskeyAdded, p.Name, s.now()); err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, p.ToWire(), nil
	})
}

type passkeyRenameRequest struct {
	Name string `json:"name"`
}

// renamePasskey is PATCH /v1/wallet/passkeys/{id}.
func (s *Server) renamePasskey(c *gin.Context) error {
	var in passkeyRenameRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	ctx := c.Request.Context()
	var p *passkey.Passkey
	err := s.db.WithTx(ctx, func(tx pgx.Tx) error {
		var err error
		p, err = s.passkeys.Rename(ctx, tx, CurrentSession(c).User.ID, c.Param("id"), in.Name)
		return err
	})
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, p.ToWire())
	return nil
}

type passkeyDeleteRequest struct {
	PasskeyAssertion json.RawMessage `json:"passkey_assertion"`
}

// deletePasskey is DELETE /v1/wallet/passkeys/{id}, with the same step-up
// as adding one (a JSON body carries the assertion), and tells the user.
func (s *Server) deletePasskey(c *gin.Context) error {
	var in passkeyDeleteRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	ctx := c.Request.Context()
	sess := CurrentSession(c)
	err := s.db.WithTx(ctx, func(tx pgx.Tx) error {
		p, err := s.passkeys.Delete(ctx, tx, sess.User.PasskeyOwner(), c.Param("id"), StepUp(sess, in.PasskeyAssertion))
		if err != nil {
			return err
		}
		return walletsecurity.NotifyPasskey(ctx, tx, &sess.User, walletsecurity.NotePasskeyRemoved, p.Name, s.now())
	})
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, wire.Deleted{ID: c.Param("id"), Deleted: true})
	return nil
}

// passkeyLoginBegin answers options for navigator.credentials.get that let
// the authenticator offer any of its passkeys for this site.
func (s *Server) passkeyLoginBegin(c *gin.Context) error {
	if err := edge.Decode(c, &emptyRequest{}); err != nil {
		return err
	}
	ctx := c.Request.Context()
	var out any
	err := s.db.WithTx(ctx, func(tx pgx.Tx) error {
		a, err := s.passkeys.BeginLogin(ctx, tx)
		out = a
		return err
	})
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, out)
	return nil
}

type passkeyLoginRequest struct {
	Credential json.RawMessage `json:"credential"`
}

// passkeyLoginFinish verifies the assertion and logs its owner in.
func (s *Server) passkeyLoginFinish(c *gin.Context) error {
	var in passkeyLoginRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	ctx := c.Request.Context()
	var userID string
	err := s.db.WithTx(ctx, func(tx pgx.Tx) error {
		var err error
		userID, err = s.passkeys.FinishLogin(ctx, tx, in.Credential)
		return err
	})
	if err != nil {
		return err
	}
	u, err := s.wallet.User(ctx, s.db.Pool, userID)
	if err != nil {
		return err
	}
	return s.logIn(c, u, wallet.MethodPasskey)
}
