// Paylink dashboard: what the passkey scripts share (the log-in page's
// passkey-login.js, the Passkeys settings page's script). WebAuthn options
// arrive as JSON with base64url strings; the browser wants ArrayBuffers,
// and its answers go back as JSON again. No inline script (the CSP).
(function () {
  'use strict';

  function toBuf(s) {
    s = s.replace(/-/g, '+').replace(/_/g, '/');
    while (s.length % 4) s += '=';
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function toB64u(buf) {
    var bytes = new Uint8Array(buf), bin = '';
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  // create runs navigator.credentials.create with the server's options and
  // resolves to the new credential as JSON.
  function create(json) {
    var pk = json.publicKey;
    pk.challenge = toBuf(pk.challenge);
    pk.user.id = toBuf(pk.user.id);
    (pk.excludeCredentials || []).forEach(function (c) { c.id = toBuf(c.id); });
    return navigator.credentials.create({ publicKey: pk }).then(credentialJSON);
  }

  // get runs navigator.credentials.get with the server's options (extra
  // adds mediation and signal) and resolves to the assertion as JSON.
  function get(json, extra) {
    var pk = json.publicKey, opts = extra || {};
    pk.challenge = toBuf(pk.challenge);
    (pk.allowCredentials || []).forEach(function (c) { c.id = toBuf(c.id); });
    opts.publicKey = pk;
    return navigator.credentials.get(opts).then(credentialJSON);
  }

  function credentialJSON(cred) {
    var r = cred.response, out = {
      id: cred.id, rawId: toB64u(cred.rawId), type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: toB64u(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = toB64u(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = toB64u(r.authenticatorData);
      out.response.signature = toB64u(r.signature);
      if (r.userHandle) out.response.userHandle = toB64u(r.userHandle);
    }
    return out;
  }

  // post sends body as JSON to path (same origin, with the session
  // cookie) and resolves to {status, data}.
  function post(path, body) {
    return fetch(path, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
      body: JSON.stringify(body || {})
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) {
        return { status: res.status, data: data };
      });
    });
  }

  // problem is the error an answer carries: {code, message, param}.
  function problem(r) {
    var e = (r.data && r.data.error) || {};
    return { code: e.code || '', param: e.param || '', message: e.message || 'Something went wrong. Try again.' };
  }

  // cancelled says whether e is the browser's "the person said no".
  function cancelled(e) { return e && (e.name === 'NotAllowedError' || e.name === 'AbortError'); }

  window.PaylinkPasskeys = { create: create, get: get, post: post, problem: problem, cancelled: cancelled };
})();
