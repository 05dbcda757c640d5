package merchantapi

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/forms"
	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/money"
)

type createFormRequest struct {
	Title          string            `json:"title"`
	Description    string            `json:"description"`
	Currency       string            `json:"currency"`
	Amount         json.RawMessage   `json:"amount"`
	AmountMin      json.RawMessage   `json:"amount_min"`
	AmountMax      json.RawMessage   `json:"amount_max"`
	Collect        []string          `json:"collect"`
	AllowedOrigins []string          `json:"allowed_origins"`
	SuccessURL     string            `json:"success_url"`
	Metadata       map[string]string `json:"metadata"`
	Realm          *string           `json:"realm"`
}

func (s *Server) createForm(c *gin.Context) error {
	var in createFormRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	realm, err := links.GivenRealm(in.Realm)
	if err != nil {
		return err
	}
	nf := forms.NewForm{Title: in.Title, Description: in.Description, Collect: in.Collect,
		AllowedOrigins: in.AllowedOrigins, SuccessURL: in.SuccessURL, Metadata: in.Metadata, Realm: realm}
	if nf.Amount, err = money.ParseOptionalMinor(string(in.Amount), "amount"); err != nil {
		return err
	}
	if nf.AmountMin, err = money.ParseOptionalMinor(string(in.AmountMin), "amount_min"); err != nil {
		return err
	}
	if nf.AmountMax, err = money.ParseOptionalMinor(string(in.AmountMax), "amount_max"); err != nil {
		return err
	}
	if nf.Currency, err = s.currencies.Parse(in.Currency); err != nil {
		return err
	}
	m := CurrentMerchant(c)
	return s.edge.Mutate(c, m.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		f, err := s.forms.Create(ctx, tx, m.ID, nf)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, s.forms.ToWire(f), nil
	})
}

func (s *Server) getForm(c *gin.Context) error {
	f, err := s.forms.Get(c.Request.Context(), s.db.Pool, CurrentMerchant(c).ID, c.Param("id"))
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, s.forms.ToWire(f))
	return nil
}

func (s *Server) listForms(c *gin.Context) error {
	p, err := edge.ParseList(c, "pform", "status", "realm")
	if err != nil {
		return err
	}
	f, err := forms.ParseFilter(c.Query("status"), c.Query("realm"))
	if err != nil {
		return err
	}
	list, more, err := s.forms.Find(c.Request.Context(), s.db.Pool, CurrentMerchant(c).ID, f, p.Limit, p.StartingAfter)
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, edge.ListOf(list, more, s.forms.ToWire))
	return nil
}

type deactivateFormRequest struct{}

func (s *Server) deactivateForm(c *gin.Context) error {
	var in deactivateFormRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	m := CurrentMerchant(c)
	return s.edge.Mutate(c, m.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		f, err := s.forms.Deactivate(ctx, tx, m.ID, c.Param("id"))
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, s.forms.ToWire(f), nil
	})
}

// updateFormRequest is a PATCH of a form: only the fields given change.
type updateFormRequest struct {
	Title          *string            `json:"title"`
	Description    *string            `json:"description"`
	Currency       *string            `json:"currency"`
	Amount         json.RawMessage    `json:"amount"`
	AmountMin      json.RawMessage    `json:"amount_min"`
	AmountMax      json.RawMessage    `json:"amount_max"`
	Collect        *[]string          `json:"collect"`
	AllowedOrigins *[]string          `json:"allowed_origins"`
	SuccessURL     *string            `json:"success_url"`
	Metadata       *map[string]string `json:"metadata"`
	Realm          *string            `json:"realm"`
}

// updateForm changes an active form with forms.Update, as the dashboard's
// edit page does. amount makes the form's amount fixed; amount_min or
// amount_max make it a range, the other bound kept from the form's range.
func (s *Server) updateForm(c *gin.Context) error {
	var in updateFormRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	amount, err := money.ParseOptionalMinor(string(in.Amount), "amount")
	if err != nil {
		return err
	}
	amin, err := money.ParseOptionalMinor(string(in.AmountMin), "amount_min")
	if err != nil {
		return err
	}
	amax, err := money.ParseOptionalMinor(string(in.AmountMax), "amount_max")
	if err != nil {
		return err
	}
	var cur money.Currency
	if in.Currency != nil {
		if cur, err = s.currencies.Parse(*in.Currency); err != nil {
			return err
		}
	}
	m := CurrentMerchant(c)
	return s.edge.Mutate(c, m.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		f, err := s.forms.Update(ctx, tx, m.ID, c.Param("id"), func(nf *forms.NewForm) {
			set(&nf.Title, in.Title)
			set(&nf.Description, in.Description)
			set(&nf.SuccessURL, in.SuccessURL)
			set(&nf.Realm, in.Realm)
			set(&nf.Collect, in.Collect)
			set(&nf.AllowedOrigins, in.AllowedOrigins)
			set(&nf.Metadata, in.Metadata)
			if in.Currency != nil {
				nf.Currency = cur
			}
			switch {
			case amin != nil || amax != nil:
				nf.Amount = amount // with a bound too: forms.ErrAmountChoice
				if amin != nil {
					nf.AmountMin = amin
				}
				if amax != nil {
					nf.AmountMax = amax
				}
			case amount != nil:
				nf.Amount, nf.AmountMin, nf.AmountMax = amount, nil, nil
			}
		})
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, s.forms.ToWire(f), nil
	})
}

// set replaces *field with *v when v is given.
func set[T any](field *T, v *T) {
	if v != nil {
		*field = *v
	}
}
