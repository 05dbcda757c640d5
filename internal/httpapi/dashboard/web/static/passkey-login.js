// Paylink dashboard log-in page: "Sign in with a passkey", and the same
// passkeys offered in the e-mail field's autofill where the browser can
// (conditional mediation). Needs webauthn.js. Any error is shown under
// the button.
(function () {
  'use strict';

  var pk = window.PaylinkPasskeys;
  var button = document.getElementById('passkey-login');
  var error = document.getElementById('passkey-error');
  if (!pk || !button || !window.PublicKeyCredential) {
    if (button) button.hidden = true;
    return;
  }
  var next = (document.querySelector('input[name=next]') || {}).value || '/dashboard';
  var autofill = null; // the pending conditional request's AbortController

  function show(text) {
    error.textContent = text || '';
    error.hidden = !text;
  }

  // logIn asks the server for a challenge, the browser for an assertion
  // (extra: conditional mediation), then the server to log in.
  function logIn(extra) {
    return pk.post('/dashboard/login/passkey/begin', {}).then(function (r) {
      if (r.status !== 200) throw new Error(pk.problem(r).message);
      return pk.get(r.data, extra);
    }).then(function (cred) {
      return pk.post('/dashboard/login/passkey/finish', { credential: cred, next: next });
    }).then(function (r) {
      if (r.status !== 200) throw new Error(pk.problem(r).message);
      window.location.assign(r.data.redirect);
    });
  }

  button.addEventListener('click', function () {
    if (autofill) autofill.abort();
    button.disabled = true;
    show('');
    logIn().catch(function (e) {
      show(pk.cancelled(e) ? 'The passkey request was cancelled.' : e.message);
      button.disabled = false;
      button.focus();
    });
  });

  if (PublicKeyCredential.isConditionalMediationAvailable) {
    PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
      if (!ok) return;
      autofill = new AbortController();
      logIn({ mediation: 'conditional', signal: autofill.signal }).catch(function (e) {
        if (!pk.cancelled(e)) show(e.message);
      });
    });
  }
})();
