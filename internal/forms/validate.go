package forms

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/money"
)

// validate checks in and returns the form it describes (without id).
func validate(in NewForm) (*Form, error) {
	f := &Form{Currency: in.Currency, Metadata: in.Metadata}
	if f.Metadata == nil {
		f.Metadata = map[string]string{}
	}
	f.Title = strings.TrimSpace(in.Title)
	if n := utf8.RuneCountInString(f.Title); n < 1 || n > maxTitle {
		return nil, ErrTitleInvalid
	}
	f.Description = strings.TrimSpace(in.Description)
	if utf8.RuneCountInString(f.Description) > maxDescription {
		return nil, ErrDescriptionInvalid
	}
	for i, a := range []*int64{in.Amount, in.AmountMin, in.AmountMax} {
		if a != nil && (*a < 1 || *a > money.MaxMinor) {
			return nil, money.ErrAmountInvalid.WithParam([]string{"amount", "amount_min", "amount_max"}[i])
		}
	}
	switch {
	case in.Amount != nil && in.AmountMin == nil && in.AmountMax == nil:
		f.Amount = *in.Amount
	case in.Amount == nil && in.AmountMin != nil && in.AmountMax != nil:
		if *in.AmountMin > *in.AmountMax {
			return nil, ErrRangeInvalid
		}
		f.AmountMin, f.AmountMax = *in.AmountMin, *in.AmountMax
	default:
		return nil, ErrAmountChoice
	}
	var err error
	if f.Collect, err = parseCollect(in.Collect); err != nil {
		return nil, err
	}
	if f.AllowedOrigins, err = parseOrigins(in.AllowedOrigins); err != nil {
		return nil, err
	}
	if f.SuccessURL, err = links.CheckURL(in.SuccessURL, "success_url"); err != nil {
		return nil, err
	}
	if err := links.CheckMetadata(f.Metadata); err != nil {
		return nil, err
	}
	if f.Realm, err = links.CheckRealm(in.Realm); err != nil {
		return nil, err
	}
	return f, nil
}

// parseCollect returns the fields of list plus e-mail and name, in
// fieldOrder. Each name may appear once.
func parseCollect(list []string) ([]Field, error) {
	want := map[Field]bool{Email: true, Name: true}
	seen := map[string]bool{}
	for i, name := range list {
		if seen[name] || !slices.Contains(fieldOrder, Field(name)) {
			return nil, ErrCollectInvalid.AtIndex("collect", i)
		}
		seen[name] = true
		want[Field(name)] = true
	}
	var out []Field
	for _, f := range fieldOrder {
		if want[f] {
			out = append(out, f)
		}
	}
	return out, nil
}

func parseOrigins(list []string) ([]string, error) {
	if len(list) < 1 || len(list) > maxOrigins {
		return nil, ErrOriginsInvalid
	}
	out := make([]string, 0, len(list))
	for i, raw := range list {
		o, err := NormalizeOrigin(raw)
		if err != nil || slices.Contains(out, o) {
			return nil, ErrOriginsInvalid.AtIndex("allowed_origins", i)
		}
		out = append(out, o)
	}
	return out, nil
}
