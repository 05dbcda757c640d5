package links

import (
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// validate checks in and returns the link it describes (without id).
func validate(in NewLink, now time.Time) (*Link, error) {
	l := &Link{Amount: in.Amount, SingleUse: in.SingleUse, Metadata: in.Metadata}
	if in.Metadata == nil {
		l.Metadata = map[string]string{}
	}
	switch {
	case in.ExpiresIn != nil && in.ExpiresAt != nil:
		return nil, ErrExpiryInvalid
	case in.ExpiresAt != nil:
		at, err := time.Parse(time.RFC3339, *in.ExpiresAt)
		if err != nil {
			return nil, ErrExpiryInvalid.WithParam("expires_at")
		}
		at = at.UTC().Truncate(time.Second)
		if d := at.Sub(now); d < MinExpiry || d > MaxExpiry {
			return nil, ErrExpiryInvalid.WithParam("expires_at")
		}
		l.ExpiresAt = at
	case in.ExpiresIn != nil:
		d := time.Duration(*in.ExpiresIn) * time.Second
		if *in.ExpiresIn < int64(MinExpiry/time.Second) || *in.ExpiresIn > int64(MaxExpiry/time.Second) {
			return nil, ErrExpiryInvalid
		}
		l.ExpiresAt = now.Add(d).Truncate(time.Second)
	default:
		l.ExpiresAt = now.Add(DefaultExpiry).Truncate(time.Second)
	}
	l.Description = strings.TrimSpace(in.Description)
	if utf8.RuneCountInString(l.Description) > maxDescription || !utf8.ValidString(l.Description) {
		return nil, ErrDescriptionInvalid
	}
	if err := CheckMetadata(l.Metadata); err != nil {
		return nil, err
	}
	var err error
	if l.SuccessURL, err = CheckURL(in.SuccessURL, "success_url"); err != nil {
		return nil, err
	}
	if l.CancelURL, err = CheckURL(in.CancelURL, "cancel_url"); err != nil {
		return nil, err
	}
	if l.Realm, err = CheckRealm(in.Realm); err != nil {
		return nil, err
	}
	return l, nil
}

// GivenRealm is the realm of a create request's optional field: "" when
// absent or null, ErrRealmInvalid when given empty (1 to 64 characters,
// API.md), else the value for CheckRealm.
func GivenRealm(realm *string) (string, error) {
	switch {
	case realm == nil:
		return "", nil
	case *realm == "":
		return "", ErrRealmInvalid
	}
	return *realm, nil
}

// CheckRealm accepts "" (no realm) or 1 to 64 characters of a-z, 0-9,
// '.', '_' and '-', and returns it, else ErrRealmInvalid. Forms and the
// payment filters share the rule.
func CheckRealm(realm string) (string, error) {
	if realm == "" {
		return "", nil
	}
	if len(realm) > 64 {
		return "", ErrRealmInvalid
	}
	for _, c := range realm {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return "", ErrRealmInvalid
		}
	}
	return realm, nil
}

// CheckMetadata returns ErrMetadataInvalid (naming the bad key) unless m
// has at most 20 keys of 1 to 40 characters whose values have at most 500
// characters (API.md). Payment forms share the rule.
func CheckMetadata(m map[string]string) error {
	if len(m) > maxMetadataKeys {
		return ErrMetadataInvalid
	}
	for k, v := range m {
		if n := utf8.RuneCountInString(k); n < 1 || n > maxMetadataKey || utf8.RuneCountInString(v) > maxMetadataValue {
			return ErrMetadataInvalid.WithParam("metadata." + clip(k))
		}
	}
	return nil
}

func clip(s string) string {
	if utf8.RuneCountInString(s) <= maxMetadataKey {
		return s
	}
	return string([]rune(s)[:maxMetadataKey]) + "…"
}

// CheckURL accepts "" or an absolute http(s) URL of at most 2048
// characters without credentials, so a redirect can never run script
// (javascript:) or leak a password. It returns the URL normalised, or
// ErrURLInvalid naming param.
func CheckURL(raw, param string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || len(raw) > maxURL || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return "", ErrURLInvalid.WithParam(param)
	}
	return u.String(), nil
}
