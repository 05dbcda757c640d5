package risk

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/processor"
)

// List names and item types (API.md Part 3, "Lists").
const (
	ListAllow = "allow"
	ListBlock = "block"

	TypeEmail           = "email"
	TypeEmailDomain     = "email_domain"
	TypeCardFingerprint = "card_fingerprint"
	TypeIP              = "ip"
)

// Errors of list items.
var (
	ErrListTypeInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "parameter_invalid", Param: "type",
		Message: "type must be email, email_domain, card_fingerprint or ip."}
	ErrListValueInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "parameter_invalid", Param: "value",
		Message: "value is not a valid value of its type."}
	// valueHints is ErrListValueInvalid's message per type: what a valid
	// value looks like, so the merchant can correct it.
	valueHints = map[string]string{
		TypeEmail:       "value must be an e-mail address, like eve@example.com.",
		TypeEmailDomain: "value must be a domain, like example.com.",
		TypeCardFingerprint: "value must be a card fingerprint: the " + strconv.Itoa(processor.FingerprintLen) +
			" characters of a payment's payment_method.fingerprint (never a card number).",
		TypeIP: "value must be an IP address or a CIDR range, like 203.0.113.7 or 203.0.113.0/24.",
	}
	ErrListNotFound = &apperr.Error{Kind: apperr.NotFound, Code: "resource_missing",
		Message: "No such list."}
)

// NormalizeItem checks value as a list item of type typ and returns its
// stored form: e-mails and domains lower-cased, an IP as a CIDR prefix
// (an address is its /32 or /128).
// A malformed value is ErrListValueInvalid, saying what a valid one of
// typ looks like.
func NormalizeItem(typ, value string) (string, error) {
	bad := ErrListValueInvalid.WithMessage(valueHints[typ])
	v := strings.TrimSpace(value)
	switch typ {
	case TypeEmail:
		v = lower(v)
		at := strings.LastIndexByte(v, '@')
		if at < 1 || at == len(v)-1 || len(v) > 254 || strings.ContainsAny(v, " \t\r\n") {
			return "", bad
		}
	case TypeEmailDomain:
		v = strings.TrimPrefix(lower(v), "@")
		if v == "" || len(v) > 253 || !strings.Contains(v, ".") || strings.ContainsAny(v, " @\t\r\n/") {
			return "", bad
		}
	case TypeCardFingerprint:
		// The exact length too: digits 2 to 7 are base32, so a card
		// number would pass the alphabet alone, and must never be stored.
		if len(v) != processor.FingerprintLen || strings.Trim(lower(v), "abcdefghijklmnopqrstuvwxyz234567") != "" {
			return "", bad
		}
		v = lower(v)
	case TypeIP:
		if strings.Contains(v, "/") {
			p, err := netip.ParsePrefix(v)
			if err != nil {
				return "", bad
			}
			return p.Masked().String(), nil
		}
		a, err := netip.ParseAddr(v)
		if err != nil {
			return "", bad
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()).String(), nil
	default:
		return "", ErrListTypeInvalid
	}
	return v, nil
}

// matcher answers whether an attempt is on one list.
type matcher struct {
	emails, domains, cards map[string]bool
	nets                   []netip.Prefix
}

func (m *matcher) add(typ, value string) {
	switch typ {
	case TypeEmail:
		m.emails[value] = true
	case TypeEmailDomain:
		m.domains[value] = true
	case TypeCardFingerprint:
		m.cards[value] = true
	case TypeIP:
		if p, err := netip.ParsePrefix(value); err == nil {
			m.nets = append(m.nets, p)
		}
	}
}

func newMatcher() *matcher {
	return &matcher{emails: map[string]bool{}, domains: map[string]bool{}, cards: map[string]bool{}}
}

func (m *matcher) match(a *Attempt) bool {
	if m.emails[lower(a.Email)] || m.domains[domainOf(a.Email)] || (a.Fingerprint != "" && m.cards[lower(a.Fingerprint)]) {
		return true
	}
	if len(m.nets) == 0 || a.IP == "" {
		return false
	}
	ip, err := netip.ParseAddr(a.IP)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, n := range m.nets {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}
