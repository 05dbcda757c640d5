package notify

import "time"

// WalletPasswordChanged is the e-mail telling a wallet user, at to, that
// their password was changed at at; how ends the sentence ("from your
// wallet's settings", "with a reset link sent to this address") and
// resetURL is where to reset it if it was not them.
func WalletPasswordChanged(to, name string, at time.Time, how, resetURL string) Email {
	return compose("wallet-password-changed", to, mailData{Greeting: greeting(name), Date: at.UTC().Format("2 January 2006 at 15:04 MST"),
		Reason: how, RetryURL: resetURL})
}

// WalletPasswordReset is the e-mail carrying a wallet user's password
// reset link url, which works once until expires.
func WalletPasswordReset(to, name, url string, expires time.Time) Email {
	return compose("wallet-password-reset", to, mailData{Greeting: greeting(name), RetryURL: url,
		Date: expires.UTC().Format("2 January 2006, 15:04 MST")})
}

// greeting is "Hello <name>," or, without a name, "Hello,".
func greeting(name string) string {
	if name = oneLine(name); name != "" {
		return "Hello " + name + ","
	}
	return "Hello,"
}
