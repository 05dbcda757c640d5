package browsertest

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// AddAuthenticator gives ctx's browser a virtual authenticator over
// transport (internal: a platform authenticator like Touch ID; usb: a
// security key) with resident keys and user verification, which answers
// every WebAuthn prompt by itself. The first call also turns on the
// DevTools WebAuthn domain, without its UI.
func AddAuthenticator(t testing.TB, ctx context.Context, transport webauthn.AuthenticatorTransport) webauthn.AuthenticatorID {
	t.Helper()
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{EnableUI: new(false)}); err != nil {
		t.Fatal(err)
	}
	res, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
			Transport: transport, HasResidentKey: true, HasUserVerification: true,
			IsUserVerified: true, AutomaticPresenceSimulation: true,
		}})
	if err != nil {
		t.Fatal(err)
	}
	return res.AuthenticatorID
}
