package passkeypages

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/httpapi/dashboard"
	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/merchantauth"
	"github.com/paylink/paylink/internal/passkey"
)

// Errors of the section's requests.
var (
	errPasswordWrong = merchantauth.ErrInvalidCredentials.WithParam("password").
				WithMessage("That is not your password.")
	errActionInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "parameter_invalid", Param: "action",
		Message: "action is add_passkey or remove_passkey."}
)

// owner is the merchant of v as the owner of passkeys; the authenticator
// shows its e-mail and name, marked as the dashboard's (the wallet shares
// the relying party).
func owner(v *dashboard.Visit) passkey.Owner {
	return passkey.Owner{ID: v.Merchant.ID, Email: v.Merchant.Email, DisplayName: v.Merchant.Name + " (Paylink dashboard)"}
}

// stepUp is what the request proves: a passkey log-in of this session,
// the assertion it carries, and the password it carries, checked here
// like a log-in (rate-limited, and counted in the merchant's lock-out).
func (s *Pages) stepUp(c *gin.Context, v *dashboard.Visit, password string, assertion json.RawMessage) (passkey.StepUp, error) {
	su := passkey.StepUp{Assertion: assertion}
	if v.Session.Method == merchantauth.MethodPasskey {
		su.PasskeyLoginAt = v.Session.CreatedAt
	}
	if password == "" {
		return su, nil
	}
	if err := s.Edge.LimitLogIn(c, v.Merchant.Email); err != nil {
		return su, err
	}
	_, err := s.Logins.CheckPassword(c.Request.Context(), v.Merchant.Email, password)
	switch {
	case errors.Is(err, merchantauth.ErrInvalidCredentials):
		return su, errPasswordWrong
	case err != nil:
		return su, err
	}
	su.PasswordAt = s.Now()
	return su, nil
}

type listData struct {
	Keys                    []passkey.Passkey
	Errors                  map[string]string // by passkey id, for its rename field
	Added, Renamed, Removed bool
}

// list shows the merchant's passkeys and the form adding one.
func (s *Pages) list(c *gin.Context, v *dashboard.Visit) {
	q := c.Request.URL.Query()
	s.listPage(c, v, http.StatusOK, listData{Added: q.Has("added"), Renamed: q.Has("renamed"), Removed: q.Has("removed")})
}

func (s *Pages) listPage(c *gin.Context, v *dashboard.Visit, status int, d listData) {
	var err error
	if d.Keys, err = s.Passkeys.List(c.Request.Context(), s.DB.Pool, v.Merchant.ID); err != nil {
		s.ErrorPage(c, err)
		return
	}
	s.render(c, status, "passkeys", v, d)
}

type registerBeginRequest struct {
	Password         string          `json:"password"`
	PasskeyAssertion json.RawMessage `json:"passkey_assertion"`
}

// registerBegin checks the step-up (a wrong password is refused here,
// before the authenticator makes anything) and answers the options for
// navigator.credentials.create.
func (s *Pages) registerBegin(c *gin.Context) error {
	var in registerBeginRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	v, err := s.CurrentVisit(c)
	if err != nil {
		return err
	}
	su, err := s.stepUp(c, v, in.Password, in.PasskeyAssertion)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	var out any
	err = s.DB.WithTx(ctx, func(tx pgx.Tx) error {
		creation, err := s.Passkeys.BeginRegistration(ctx, tx, owner(v), su)
		out = creation
		return err
	})
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, out)
	return nil
}

type registerFinishRequest struct {
	Name       string          `json:"name"`
	Credential json.RawMessage `json:"credential"`
}

// registerFinish stores the new passkey, whose challenge the step-up of
// registerBegin admitted, and e-mails the merchant about it.
func (s *Pages) registerFinish(c *gin.Context) error {
	var in registerFinishRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	v, err := s.CurrentVisit(c)
	if err != nil {
		return err
	}
	su, _ := s.stepUp(c, v, "", nil) // without a password, nothing can fail
	ctx := c.Request.Context()
	var p *passkey.Passkey
	err = s.DB.WithTx(ctx, func(tx pgx.Tx) error {
		p, err = s.Passkeys.FinishRegistration(ctx, tx, owner(v), in.Name, in.Credential, su)
		if err != nil {
			return err
		}
		return s.Logins.NotifyPasskey(ctx, tx, v.Merchant.Email, p.Name, true)
	})
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusCreated, p.ToWire())
	return nil
}

type stepUpRequest struct {
	Action  string `json:"action"`
	Passkey string `json:"passkey"`
}

// stepUpBegin answers options for navigator.credentials.get that confirm
// one change (add_passkey, or remove_passkey of passkey) with one of the
// merchant's passkeys.
func (s *Pages) stepUpBegin(c *gin.Context) error {
	var in stepUpRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	if in.Action != passkey.ActionAddPasskey && in.Action != passkey.ActionRemovePasskey {
		return errActionInvalid
	}
	v, err := s.CurrentVisit(c)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	var out any
	err = s.DB.WithTx(ctx, func(tx pgx.Tx) error {
		a, err := s.Passkeys.BeginStepUp(ctx, tx, owner(v), in.Action, in.Passkey)
		out = a
		return err
	})
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, out)
	return nil
}

// rename gives a passkey a new name; a refused name is shown next to its
// field.
func (s *Pages) rename(c *gin.Context, v *dashboard.Visit, form url.Values) {
	ctx := c.Request.Context()
	err := s.DB.WithTx(ctx, func(tx pgx.Tx) error {
		_, err := s.Passkeys.Rename(ctx, tx, v.Merchant.ID, c.Param("id"), form.Get("name"))
		return err
	})
	if errors.Is(err, passkey.ErrNameInvalid) {
		status, _ := s.Failed(c, err)
		s.listPage(c, v, status, listData{Errors: map[string]string{c.Param("id"): passkey.ErrNameInvalid.Message}})
		return
	}
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/dashboard/settings/passkeys?renamed=1")
}

type removeData struct {
	Key    passkey.Passkey
	Errors map[string]string
}

// removeConfirm asks before removing a passkey, and for the step-up.
func (s *Pages) removeConfirm(c *gin.Context, v *dashboard.Visit) {
	s.removePage(c, v, http.StatusOK, nil)
}

func (s *Pages) removePage(c *gin.Context, v *dashboard.Visit, status int, errs map[string]string) {
	keys, err := s.Passkeys.List(c.Request.Context(), s.DB.Pool, v.Merchant.ID)
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	for _, k := range keys {
		if k.ID == c.Param("id") {
			s.render(c, status, "passkey-remove", v, removeData{Key: k, Errors: errs})
			return
		}
	}
	s.ErrorPage(c, passkey.ErrNotFound)
}

// remove deletes a passkey after the step-up the form carries (password,
// or passkey_assertion filled in by the page's script), and e-mails the
// merchant about it.
func (s *Pages) remove(c *gin.Context, v *dashboard.Visit, form url.Values) {
	var assertion json.RawMessage
	if a := form.Get("passkey_assertion"); a != "" {
		assertion = json.RawMessage(a)
	}
	su, err := s.stepUp(c, v, form.Get("password"), assertion)
	ctx := c.Request.Context()
	if err == nil {
		err = s.DB.WithTx(ctx, func(tx pgx.Tx) error {
			p, err := s.Passkeys.Delete(ctx, tx, owner(v), c.Param("id"), su)
			if err != nil {
				return err
			}
			return s.Logins.NotifyPasskey(ctx, tx, v.Merchant.Email, p.Name, false)
		})
	}
	if err != nil {
		status, errs := s.Failed(c, err)
		if errs["passkey_assertion"] != "" {
			errs["password"] = errs["passkey_assertion"] // shown with the step-up's field
		}
		if status == http.StatusNotFound || errs[""] != "" && status >= 500 {
			s.ErrorPage(c, err)
			return
		}
		s.removePage(c, v, status, errs)
		return
	}
	c.Redirect(http.StatusSeeOther, "/dashboard/settings/passkeys?removed=1")
}
