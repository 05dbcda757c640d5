package riskpages

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/httpapi/dashboard"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/risk"
	"github.com/paylink/paylink/internal/wire"
)

// listForm is one list's add form as typed, with its errors by field.
type listForm struct {
	Type, Value string
	Errors      map[string]string
}

// listView is one list (allow or block) with its items and add form.
type listView struct {
	Name, Title, Hint string
	Items             []*risk.Item
	Form              listForm
}

type listsData struct {
	Lists [2]*listView
	Types []string
}

// lists shows the allow and block lists with their add forms.
func (s *Pages) lists(c *gin.Context, v *dashboard.Visit) {
	s.listsPage(c, v, http.StatusOK, "", listForm{})
}

// listsPage renders both lists, with form (and its errors) on list.
func (s *Pages) listsPage(c *gin.Context, v *dashboard.Visit, status int, list string, form listForm) {
	items, err := risk.ListItems(c.Request.Context(), s.DB.Pool, v.Merchant.ID, "")
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	d := listsData{Types: []string{"email", "email_domain", "card_fingerprint", "ip"}, Lists: [2]*listView{
		{Name: risk.ListAllow, Title: "Allow list", Hint: "Payments matching an item here are let through without further screening (card testing still blocks)."},
		{Name: risk.ListBlock, Title: "Block list", Hint: "Payments matching an item here are blocked before the card is charged."},
	}}
	for _, l := range d.Lists {
		l.Form.Type = "email"
		if l.Name == list {
			l.Form = form
		}
		for _, it := range items {
			if it.List == l.Name {
				l.Items = append(l.Items, it)
			}
		}
	}
	s.render(c, status, "lists", v, d)
}

// addItem adds an item with risk.AddItem (the API's); a bad type or value
// comes back with its error at the field.
func (s *Pages) addItem(c *gin.Context, v *dashboard.Visit, form url.Values) {
	list := c.Param("list")
	f := listForm{Type: form.Get("type"), Value: form.Get("value")}
	err := risk.CheckList(list)
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	if _, err = risk.NormalizeItem(f.Type, f.Value); err == nil {
		_, _, err = s.Edge.MutateAnswer(c, v.Merchant.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
			it, err := risk.AddItem(ctx, tx, v.Merchant.ID, list, f.Type, f.Value, s.Now())
			if err != nil {
				return 0, nil, err
			}
			return http.StatusCreated, it.ToWire(), nil
		})
	}
	if err != nil {
		var status int
		status, f.Errors = s.Failed(c, err)
		s.listsPage(c, v, status, list, f)
		return
	}
	c.Redirect(http.StatusSeeOther, "/dashboard/risk/lists#"+list)
}

// deleteItem removes an item with risk.DeleteItem (the page asks first).
func (s *Pages) deleteItem(c *gin.Context, v *dashboard.Visit, _ url.Values) {
	list, iid := c.Param("list"), c.Param("id")
	err := risk.CheckList(list)
	if err == nil && !id.Valid("rli", iid) {
		err = risk.ErrItemNotFound
	}
	if err == nil {
		_, _, err = s.Edge.MutateAnswer(c, v.Merchant.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
			if err := risk.DeleteItem(ctx, tx, v.Merchant.ID, list, iid); err != nil {
				return 0, nil, err
			}
			return http.StatusOK, wire.Deleted{ID: iid, Deleted: true}, nil
		})
	}
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/dashboard/risk/lists#"+list)
}
