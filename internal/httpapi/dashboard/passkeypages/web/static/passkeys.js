// Paylink dashboard, Settings → Passkeys. Needs webauthn.js.
// Adding: the step-up comes first (the password, or with "Confirm with a
// passkey instead" an existing passkey), so a wrong password is shown
// next to its field before the browser creates anything; then the new
// passkey is created and stored, and the page reloads to list it.
// Removing (its own page, a plain form with the password): "Confirm with
// a passkey instead" fills the form's passkey_assertion and sends it.
(function () {
  'use strict';

  var pk = window.PaylinkPasskeys;
  if (!pk) return;
  var $ = function (id) { return document.getElementById(id); };

  // fieldError shows text under the field id (or hides it), and focuses
  // the field when there is an error.
  function fieldError(id, text) {
    var p = $(id + '-error'), input = $(id);
    if (!p) return;
    p.textContent = text || '';
    p.hidden = !text;
    if (input) {
      if (text) { input.setAttribute('aria-invalid', 'true'); input.focus(); } else { input.removeAttribute('aria-invalid'); }
    }
  }

  // stepUpAssertion confirms action with one of the merchant's passkeys.
  function stepUpAssertion(action, passkeyID) {
    return pk.post('/dashboard/settings/passkeys/stepup/begin', { action: action, passkey: passkeyID || '' }).then(function (r) {
      if (r.status !== 200) throw new Error(pk.problem(r).message);
      return pk.get(r.data);
    });
  }

  var form = $('add-passkey-form');
  if (form) {
    var submit = $('add-passkey'), withPasskey = $('add-with-passkey');
    var add = function (proof) {
      fieldError('passkey-name', '');
      fieldError('current-password', '');
      fieldError('add', '');
      submit.disabled = true;
      if (withPasskey) withPasskey.disabled = true;
      return proof.then(function (body) {
        return pk.post('/dashboard/settings/passkeys/register/begin', body);
      }).then(function (r) {
        if (r.status !== 200) {
          var e = pk.problem(r);
          var err = new Error(e.message);
          err.field = e.param === 'password' ? 'current-password' : 'add';
          throw err;
        }
        return pk.create(r.data);
      }).then(function (cred) {
        return pk.post('/dashboard/settings/passkeys/register/finish', { name: $('passkey-name').value.trim(), credential: cred });
      }).then(function (r) {
        if (r.status !== 201) {
          var e = pk.problem(r);
          var err = new Error(e.message);
          err.field = e.param === 'name' ? 'passkey-name' : 'add';
          throw err;
        }
        window.location.assign('/dashboard/settings/passkeys?added=1');
      }).catch(function (e) {
        var text = e.message;
        if (e.name === 'InvalidStateError') text = 'This device already holds one of your passkeys; add one on another device or security key.';
        else if (pk.cancelled(e)) text = 'The passkey request was cancelled; nothing was added.';
        fieldError(e.field || 'add', text);
        submit.disabled = false;
        if (withPasskey) withPasskey.disabled = false;
      });
    };
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var name = $('passkey-name').value.trim(), password = $('current-password').value;
      if (name.length > 100) { fieldError('passkey-name', 'A passkey name is at most 100 characters.'); return; }
      if (!password) { fieldError('current-password', 'Enter your password to confirm it\u2019s you.'); return; }
      add(Promise.resolve({ password: password }));
    });
    if (withPasskey) withPasskey.addEventListener('click', function () {
      add(stepUpAssertion('add_passkey').then(function (a) { return { passkey_assertion: a }; }));
    });
  }

  var removeForm = $('remove-form');
  if (removeForm) {
    var confirmWithPasskey = $('remove-with-passkey');
    removeForm.addEventListener('submit', function (ev) {
      if ($('passkey-assertion').value || $('current-password').value) return;
      ev.preventDefault();
      fieldError('remove', 'Enter your password, or confirm with a passkey.');
      $('current-password').focus();
    });
    confirmWithPasskey.addEventListener('click', function () {
      confirmWithPasskey.disabled = true;
      fieldError('remove', '');
      stepUpAssertion('remove_passkey', removeForm.getAttribute('data-passkey')).then(function (a) {
        $('passkey-assertion').value = JSON.stringify(a);
        $('current-password').value = '';
        removeForm.submit();
      }).catch(function (e) {
        fieldError('remove', pk.cancelled(e) ? 'The passkey confirmation was cancelled; the passkey was kept.' : e.message);
        confirmWithPasskey.disabled = false;
      });
    });
  }
})();
