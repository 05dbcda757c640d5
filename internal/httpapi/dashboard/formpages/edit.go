package formpages

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/forms"
	"github.com/paylink/paylink/internal/httpapi/dashboard"
	"github.com/paylink/paylink/internal/money"
)

type listData struct {
	Forms         []*forms.Form
	Status, Realm string
	Errors        map[string]string
	Next          string
	Statuses      []string
}

// list is the merchant's forms, filtered by status and realm as the API
// filters them, newest first.
func (s *Pages) list(c *gin.Context, v *dashboard.Visit) {
	d := listData{Status: c.Query("status"), Realm: c.Query("realm"), Statuses: []string{"active", "inactive"}}
	f, err := forms.ParseFilter(d.Status, d.Realm)
	if err != nil {
		var status int
		status, d.Errors = s.Failed(c, err)
		s.render(c, status, "forms", v, d)
		return
	}
	after := dashboard.StartingAfter(c, "pform")
	list, more, err := s.forms.Find(c.Request.Context(), s.DB.Pool, v.Merchant.ID, f, dashboard.PageSize, after)
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	d.Forms = list
	if more {
		q := url.Values{"starting_after": {list[len(list)-1].ID}}
		for k, val := range map[string]string{"status": d.Status, "realm": d.Realm} {
			if val != "" {
				q.Set(k, val)
			}
		}
		d.Next = dashboard.WithQuery("/dashboard/forms", q)
	}
	s.render(c, http.StatusOK, "forms", v, d)
}

// editForm is the new-form or edit form as typed. ID is "" for a new form.
type editForm struct {
	ID                                          string
	Title, Description, Currency                string
	Pricing, Amount, AmountMin, AmountMax       string // Pricing: "fixed" or "range"
	Phone, BillingAddress                       bool
	AllowedOrigins, SuccessURL, Realm, Metadata string
	Currencies                                  []money.Currency
	Errors                                      map[string]string
}

// newForm is the empty new-form page, in the merchant's first accepted
// currency.
func (s *Pages) newForm(c *gin.Context, v *dashboard.Visit) {
	cur := s.Currencies.First()
	if accepted := v.Merchant.Settings.Currencies; !v.Merchant.Settings.AcceptsCurrency(cur) && len(accepted) > 0 {
		cur = accepted[0]
	}
	s.render(c, http.StatusOK, "form-edit", v, editForm{Pricing: "fixed", Currency: string(cur),
		Currencies: v.Merchant.Settings.Currencies})
}

// edit is the edit page of an active form, filled with what it asks for.
func (s *Pages) edit(c *gin.Context, v *dashboard.Visit) {
	f, err := s.forms.Get(c.Request.Context(), s.DB.Pool, v.Merchant.ID, c.Param("id"))
	if err == nil {
		err = f.Payable()
	}
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	in := editForm{ID: f.ID, Title: f.Title, Description: f.Description, Currency: string(f.Currency), Pricing: "fixed",
		Phone: f.Collects(forms.Phone), BillingAddress: f.Collects(forms.BillingAddress),
		AllowedOrigins: strings.Join(f.AllowedOrigins, "\n"), SuccessURL: f.SuccessURL, Realm: f.Realm,
		Metadata: metadataLines(f.Metadata), Currencies: v.Merchant.Settings.Currencies}
	if f.Amount > 0 {
		in.Amount = money.FormatMajor(f.Amount, f.Currency)
	} else {
		in.Pricing = "range"
		in.AmountMin, in.AmountMax = money.FormatMajor(f.AmountMin, f.Currency), money.FormatMajor(f.AmountMax, f.Currency)
	}
	s.render(c, http.StatusOK, "form-edit", v, in)
}

// metadataLines writes metadata as the form's key=value lines, sorted.
func metadataLines(m map[string]string) string {
	lines := make([]string, 0, len(m))
	for k, val := range m {
		lines = append(lines, k+"="+val)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// typed reads the posted form.
func typed(form url.Values, v *dashboard.Visit) editForm {
	return editForm{Title: form.Get("title"), Description: form.Get("description"), Currency: form.Get("currency"),
		Pricing: form.Get("pricing"), Amount: form.Get("amount"), AmountMin: form.Get("amount_min"),
		AmountMax: form.Get("amount_max"), Phone: form.Get("collect_phone") == "1",
		BillingAddress: form.Get("collect_billing_address") == "1", AllowedOrigins: form.Get("allowed_origins"),
		SuccessURL: form.Get("success_url"), Realm: form.Get("realm"), Metadata: form.Get("metadata"),
		Currencies: v.Merchant.Settings.Currencies}
}

var errMetadataLines = &apperr.Error{Kind: apperr.Invalid, Code: "metadata_invalid", Param: "metadata",
	Message: "Write one key=value pair per line."}

// read turns the typed form into the API's forms.NewForm: amounts in the
// currency's major units, origins and metadata one a line.
func (s *Pages) read(in editForm) (forms.NewForm, error) {
	nf := forms.NewForm{Title: in.Title, Description: in.Description, SuccessURL: in.SuccessURL, Realm: in.Realm,
		AllowedOrigins: []string{}, Collect: []string{}}
	cur, err := s.Currencies.Parse(in.Currency)
	if err != nil {
		return nf, err
	}
	nf.Currency = cur
	amount := func(raw, param string) (*int64, error) {
		n, err := money.ParseMajor(raw, cur, param)
		return &n, err
	}
	if in.Pricing == "range" {
		if nf.AmountMin, err = amount(in.AmountMin, "amount_min"); err != nil {
			return nf, err
		}
		if nf.AmountMax, err = amount(in.AmountMax, "amount_max"); err != nil {
			return nf, err
		}
	} else if nf.Amount, err = amount(in.Amount, "amount"); err != nil {
		return nf, err
	}
	if in.Phone {
		nf.Collect = append(nf.Collect, string(forms.Phone))
	}
	if in.BillingAddress {
		nf.Collect = append(nf.Collect, string(forms.BillingAddress))
	}
	for _, line := range strings.Split(in.AllowedOrigins, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			nf.AllowedOrigins = append(nf.AllowedOrigins, line)
		}
	}
	for _, line := range strings.Split(in.Metadata, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		k, val, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nf, errMetadataLines
		}
		if nf.Metadata == nil {
			nf.Metadata = map[string]string{}
		}
		nf.Metadata[strings.TrimSpace(k)] = strings.TrimSpace(val)
	}
	return nf, nil
}

// create makes the form with forms.Create (the API's), once per rendered
// form.
func (s *Pages) create(c *gin.Context, v *dashboard.Visit, form url.Values) {
	s.save(c, v, typed(form, v), func(ctx context.Context, tx pgx.Tx, nf forms.NewForm) (*forms.Form, error) {
		return s.forms.Create(ctx, tx, v.Merchant.ID, nf)
	})
}

// update changes an active form with forms.Update, once per rendered
// form.
func (s *Pages) update(c *gin.Context, v *dashboard.Visit, form url.Values) {
	in := typed(form, v)
	in.ID = c.Param("id")
	// A form that is not the merchant's, or no longer active, is an error
	// page before what was typed is checked: never an edit page for it.
	f, err := s.forms.Get(c.Request.Context(), s.DB.Pool, v.Merchant.ID, in.ID)
	if err == nil {
		err = f.Payable()
	}
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	s.save(c, v, in, func(ctx context.Context, tx pgx.Tx, nf forms.NewForm) (*forms.Form, error) {
		return s.forms.Update(ctx, tx, v.Merchant.ID, in.ID, func(old *forms.NewForm) { *old = nf })
	})
}

// save runs write (a create or an update) through edge.MutateAnswer and
// goes to the form's page, or shows the typed form again with the API's
// error next to the field it names. A form that is not the merchant's,
// or no longer active, is an error page.
func (s *Pages) save(c *gin.Context, v *dashboard.Visit, in editForm,
	write func(context.Context, pgx.Tx, forms.NewForm) (*forms.Form, error)) {
	nf, err := s.read(in)
	var body []byte
	if err == nil {
		_, body, err = s.Edge.MutateAnswer(c, v.Merchant.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
			f, err := write(ctx, tx, nf)
			if err != nil {
				return 0, nil, err
			}
			return http.StatusOK, s.forms.ToWire(f), nil
		})
	}
	if e, ok := apperr.As(err); ok && e.Kind != apperr.Invalid {
		s.ErrorPage(c, err)
		return
	}
	if err != nil {
		var status int
		status, in.Errors = s.Failed(c, err)
		s.render(c, status, "form-edit", v, in)
		return
	}
	var saved struct{ ID string }
	_ = json.Unmarshal(body, &saved)
	note := "saved"
	if in.ID == "" {
		note = "created"
	}
	c.Redirect(http.StatusSeeOther, "/dashboard/forms/"+saved.ID+"?"+note+"=1")
}
