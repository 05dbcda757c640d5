// Paylink wallet password pages: changing the password on the wallet
// page (with a passkey confirmation when the server asks for one), asking
// for a reset link, and choosing a new password from that link. It runs
// after wallet.js, whose helpers it uses. No inline script (the CSP
// forbids it).
(function () {
  "use strict";

  var w = window.PaylinkWallet;
  if (!w) return;
  var $ = function (id) { return document.getElementById(id); };

  // say writes text in box (ok: a success) and brings it into view.
  function say(box, text, ok) {
    box.textContent = text || "";
    box.className = "alert " + (ok ? "alert-ok" : "alert-error");
    if (text) box.focus({ preventScroll: true });
    var r = box.getBoundingClientRect();
    if (text && (r.top < 0 || r.bottom > window.innerHeight)) box.scrollIntoView({ block: "center" });
  }
  // fieldError marks input id invalid with text, or clears it ("").
  function fieldError(id, text) {
    $(id + "-error").textContent = text;
    if (text) $(id).setAttribute("aria-invalid", "true");
    else $(id).removeAttribute("aria-invalid");
  }
  function code(r) { return (r.data && r.data.error && r.data.error.code) || ""; }
  function param(r) { return (r.data && r.data.error && r.data.error.param) || ""; }

  // changeForm: current and new password; the server may answer
  // passkey_step_up_required, and then a passkey confirms the change and
  // it is sent again.
  function changeForm(form) {
    var box = $("password-message"), button = $("password-submit");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      say(box, "");
      fieldError("current_password", "");
      fieldError("new_password", "");
      var body = { current_password: $("current_password").value, new_password: $("new_password").value };
      if (!body.current_password) { fieldError("current_password", "Enter your current password."); $("current_password").focus(); return; }
      if (body.new_password.length < 10) {
        fieldError("new_password", "The new password must be at least 10 characters.");
        $("new_password").focus();
        return;
      }
      button.disabled = true;
      w.api("POST", "/v1/wallet/password", body).then(function (r) {
        if (r.status !== 403 || code(r) !== "passkey_step_up_required") return r;
        say(box, "Confirm with one of your passkeys to change your password.", true);
        return w.confirmFirst(true, { action: "change_password" }).then(function (assertion) {
          body.passkey_assertion = assertion;
          return w.api("POST", "/v1/wallet/password", body);
        });
      }).then(function (r) {
        if (r.status === 200) {
          form.reset();
          say(box, "Password changed. Every other device was logged out; we sent you an e-mail about it.", true);
          return;
        }
        var p = param(r);
        if (r.status === 400 && (p === "current_password" || p === "new_password")) {
          say(box, "");
          fieldError(p, w.errorText(r));
          $(p).focus();
          return;
        }
        if (r.status === 401) { window.location.assign("/wallet/login?next=/wallet"); return; }
        say(box, w.errorText(r));
      }).catch(function (e) {
        say(box, e.name === "NotAllowedError" ? "The passkey confirmation was cancelled; your password was not changed." : e.message);
      }).finally(function () { button.disabled = false; });
    });
  }

  // forgotForm asks for a link; the answer is the same whether or not
  // the address has a wallet.
  function forgotForm(form) {
    var box = $("message"), button = $("forgot-submit"), email = $("email");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      email.removeAttribute("aria-invalid");
      if (!email.value.trim()) {
        say(box, "Enter the e-mail of your wallet.");
        email.setAttribute("aria-invalid", "true");
        email.focus();
        return;
      }
      button.disabled = true;
      w.api("POST", "/v1/wallet/password/forgot", { email: email.value.trim() }).then(function (r) {
        if (r.status === 202) {
          form.hidden = true;
          say(box, "If a wallet has the address " + email.value.trim() + ", we sent it a link to choose a new password. " +
            "It works once, for an hour. Check your inbox (and spam folder).", true);
          return;
        }
        if (param(r) === "email") { email.setAttribute("aria-invalid", "true"); email.focus(); }
        say(box, w.errorText(r));
      }).catch(function (e) { say(box, e.message); }).finally(function () { button.disabled = false; });
    });
  }

  // resetForm sets the new password with the token in the link's
  // fragment (#token=…), which never reaches a server log.
  function resetForm(form) {
    var box = $("message"), button = $("reset-submit"), input = $("new_password");
    var token = new URLSearchParams(window.location.hash.slice(1)).get("token");
    if (!token) {
      form.hidden = true;
      say(box, "This page needs the link from your password reset e-mail. Open the link again, or ask for a new one.");
      return;
    }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      input.removeAttribute("aria-invalid");
      if (input.value.length < 10) {
        say(box, "The new password must be at least 10 characters.");
        input.setAttribute("aria-invalid", "true");
        input.focus();
        return;
      }
      button.disabled = true;
      w.api("POST", "/v1/wallet/password/reset", { token: token, password: input.value }).then(function (r) {
        if (r.status === 200) {
          form.hidden = true;
          $("reset-again").hidden = true;
          say(box, "Your password was changed and every device was logged out. Log in with your new password.", true);
          return;
        }
        if (param(r) === "token") form.hidden = true;
        else if (param(r) === "password") { input.setAttribute("aria-invalid", "true"); input.focus(); }
        say(box, w.errorText(r));
      }).catch(function (e) { say(box, e.message); }).finally(function () { button.disabled = false; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if ($("password-form")) changeForm($("password-form"));
    if ($("forgot-form")) forgotForm($("forgot-form"));
    if ($("reset-form")) resetForm($("reset-form"));
  });
})();
