package merchant

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/paylink/paylink/internal/apperr"
)

// ErrNameNotAllowed is a merchant name that could make a shopper's e-mail
// say more than who the merchant is; WithMessage says why.
var ErrNameNotAllowed = &apperr.Error{Kind: apperr.Invalid, Code: "name_not_allowed", Param: "name",
	Message: "The name cannot contain a web address, domain name, e-mail address, quotes or angle brackets, nor Paylink's own name: shoppers read it in e-mails."}

var (
	// domainLike finds a dotted name ending in a TLD-like run of letters
	// ("evil.test", "www.shop.co.uk"); "Dr. Smith" and "Co." do not match.
	domainLike = regexp.MustCompile(`(?:^|[^\p{L}\p{N}-])[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?)*\.\p{L}{2,63}(?:$|[^\p{L}\p{N}-])`)
	ipLike     = regexp.MustCompile(`\d{1,3}(?:\.\d{1,3}){3}`)
	// dots are the characters NFKC leaves alone that read as a dot.
	dots = strings.NewReplacer("。", ".", "｡", ".", "︒", ".", "․", ".")
)

// ValidateName checks a merchant's name, which shoppers read in their
// receipts and on the checkout page, and returns it trimmed. It is 1 to
// 100 characters with no control, invisible or formatting characters
// (line breaks, zero-width and bidi characters: ErrNameInvalid), and, read
// the way a person would (Unicode-compatibility folded, any case), no web
// address, domain name, IP address or e-mail address, no double quotes,
// angle brackets or backslash, and no "Paylink" (ErrNameNotAllowed). Use
// it wherever a name is set: sign-up and every update.
func ValidateName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if n := utf8.RuneCountInString(name); n < 1 || n > 100 || !utf8.ValidString(name) {
		return name, ErrNameInvalid
	}
	for _, r := range name {
		if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Zl, unicode.Zp) || r == utf8.RuneError {
			return name, ErrNameInvalid.WithMessage("The name cannot contain line breaks or invisible or formatting characters.")
		}
	}
	folded := strings.ToLower(dots.Replace(norm.NFKC.String(name)))
	switch {
	case strings.Contains(folded, "://") || strings.Contains(folded, "www.") || domainLike.MatchString(folded) || ipLike.MatchString(folded):
		return name, ErrNameNotAllowed.WithMessage("The name cannot contain a web address or domain name (write \"Acme\", not \"acme.com\"; after a dot, leave a space).")
	case strings.ContainsAny(folded, "@＠"):
		return name, ErrNameNotAllowed.WithMessage("The name cannot contain an e-mail address.")
	case strings.ContainsAny(folded, "\"“”„‟«»‹›<>\\`"):
		return name, ErrNameNotAllowed.WithMessage("The name cannot contain double quotes, angle brackets, backslashes or backticks.")
	case strings.Contains(lettersOnly(folded), "paylink"):
		return name, ErrNameNotAllowed.WithMessage("The name cannot contain Paylink's own name.")
	}
	return name, nil
}

// lettersOnly drops everything but letters, so "P-a-y L.i.n.k" reads as
// "paylink".
func lettersOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) {
			return r
		}
		return -1
	}, s)
}
