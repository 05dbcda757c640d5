package config

import (
	"fmt"
	"net"
	"regexp"
	"strings"
)

// heloName is a host name or an address literal, as EHLO takes.
var heloName = regexp.MustCompile(`^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^\[[0-9A-Fa-f:.]+\]$`)

// smtpSecurity reads PAYLINK_SMTP_TLS and PAYLINK_SMTP_HELO and refuses
// the combinations that cannot work or would leak the password: implicit
// TLS on a STARTTLS port and the reverse, a user name without a password
// or the other way round, and a password sent in clear beyond loopback.
// c's host, port and credentials are read already.
func (p *parser) smtpSecurity(c *Config) (mode, helo string) {
	mode = p.oneOf("PAYLINK_SMTP_TLS", "auto", "starttls", "implicit", "none")
	helo = p.str("PAYLINK_SMTP_HELO")
	if helo == "" && c.BaseURL != nil {
		helo = c.BaseURL.Hostname()
		if strings.Contains(helo, ":") {
			helo = "[IPv6:" + helo + "]"
		} else if net.ParseIP(helo) != nil {
			helo = "[" + helo + "]"
		}
	}
	if helo != "" && !strings.HasPrefix(helo, "[IPv6:") && !heloName.MatchString(helo) {
		p.fail("PAYLINK_SMTP_HELO", fmt.Sprintf("%q is not a host name", helo))
	}
	if c.SMTPHost == "" {
		// Mail settings without a server do nothing (e-mails stay queued);
		// say so instead of starting as if they applied.
		switch {
		case mode != "auto":
			p.fail("PAYLINK_SMTP_HOST", fmt.Sprintf("unset, so PAYLINK_SMTP_TLS=%s applies to nothing and e-mails stay queued: set the mail server's host, or unset PAYLINK_SMTP_TLS", mode))
		case c.SMTPUsername != "" || c.SMTPPassword != "":
			p.fail("PAYLINK_SMTP_HOST", "unset, so the SMTP user name and password apply to nothing and e-mails stay queued: set the mail server's host")
		}
		return mode, helo
	}
	const tlsVar = "PAYLINK_SMTP_TLS"
	switch {
	case mode == "implicit" && (c.SMTPPort == 587 || c.SMTPPort == 25):
		p.fail(tlsVar, fmt.Sprintf("implicit TLS on port %d, which speaks plain SMTP first: use PAYLINK_SMTP_PORT=465, or PAYLINK_SMTP_TLS=starttls", c.SMTPPort))
	case (mode == "starttls" || mode == "auto" || mode == "none") && c.SMTPPort == 465:
		p.fail(tlsVar, fmt.Sprintf("%s on port 465, which expects TLS from the first byte: set PAYLINK_SMTP_TLS=implicit", mode))
	}
	switch {
	case (c.SMTPUsername == "") != (c.SMTPPassword == ""):
		p.fail("PAYLINK_SMTP_USERNAME", "set both PAYLINK_SMTP_USERNAME and PAYLINK_SMTP_PASSWORD, or neither")
	case c.SMTPUsername != "" && mode == "none" && !loopback(c.SMTPHost):
		p.fail(tlsVar, fmt.Sprintf("none would send the SMTP password in clear to %s: use starttls or implicit", c.SMTPHost))
	}
	return mode, helo
}

// loopback reports whether host is localhost or a loopback address.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
