package forms

import (
	"errors"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// errOrigin is any origin NormalizeOrigin refuses.
var errOrigin = errors.New("forms: not an allowed origin")

// hostName is a DNS name of letters, digits and hyphens (IDNs in their
// punycode form); wildcards are not origins.
var hostName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)

// NormalizeOrigin returns raw as a browser writes an origin (lower-case
// scheme and host, no default port, no trailing slash), or an error unless
// it is exactly an origin: https, or http for a loopback host (local
// development), a host name or IP address, an optional port, and nothing
// else (no path, query, fragment, credentials or wildcard). The result is
// safe to put in a Content-Security-Policy header.
func NormalizeOrigin(raw string) (string, error) {
	if len(raw) > 300 || strings.ContainsAny(raw, " \t\r\n*;,'\"") {
		return "", errOrigin
	}
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "" ||
		(u.Path != "" && u.Path != "/") {
		return "", errOrigin
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	var hostPart string
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return "", errOrigin
		}
		hostPart = ip.String()
		if ip.Is6() && !ip.Is4In6() {
			hostPart = "[" + hostPart + "]"
		}
	} else if hostName.MatchString(host) && !allDigitsAndDots(host) {
		hostPart = host
	} else {
		return "", errOrigin
	}
	switch {
	case scheme == "https":
	case scheme == "http" && loopback(host):
	default:
		return "", errOrigin
	}
	port := u.Port()
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
			return "", errOrigin
		}
		if (scheme == "https" && n == 443) || (scheme == "http" && n == 80) {
			port = ""
		}
	}
	out := scheme + "://" + hostPart
	if port != "" {
		out += ":" + port
	}
	return out, nil
}

// loopback reports whether host names this machine: localhost, a
// *.localhost name, 127.0.0.0/8 or ::1.
func loopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// allDigitsAndDots catches things like 256.1.1.1 that are neither an IP
// address nor a host name.
func allDigitsAndDots(s string) bool {
	return strings.Trim(s, "0123456789.") == ""
}
