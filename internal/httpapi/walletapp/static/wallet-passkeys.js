// Paylink wallet page: adding, renaming and removing passkeys. It runs
// after wallet.js, whose list of passkeys it draws (without this file the
// list only names them): each passkey gets a Rename and a Remove button.
// Renaming opens a small form in place; removing asks first, then confirms
// with a passkey, the step-up the server asks for unless the session began
// with a passkey a few minutes ago; adding a second one confirms with the
// first. No inline script (the CSP forbids it).
(function () {
  "use strict";

  var w = window.PaylinkWallet;
  if (!w) return;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  // put appends the nodes after parent to it, and returns it.
  function put(parent) {
    for (var i = 1; i < arguments.length; i++) parent.appendChild(arguments[i]);
    return parent;
  }
  function button(text, cls, label) {
    var b = el("button", cls, text);
    b.type = "button";
    if (label) b.setAttribute("aria-label", label);
    return b;
  }
  function quoted(name) { return "\u201c" + name + "\u201d"; }
  function day(iso) { return new Date(iso).toLocaleDateString(); }

  // focusLater moves the focus, once the list is drawn again, to the
  // element of the passkey id that selector finds (or to fallback).
  function focusLater(id, selector, fallback) {
    var item = id && document.querySelector('#passkeys li[data-id="' + id + '"]');
    var target = (item && item.querySelector(selector)) || document.getElementById(fallback);
    if (target) target.focus();
  }

  // renderPasskeys draws keys (newest first) into ul; changed reloads the
  // page's data after a change and resolves when it is drawn.
  var count = 0, reload = function () { return Promise.resolve(); };
  w.renderPasskeys = function (ul, keys, changed) {
    count = keys.length;
    reload = changed;
    ul.textContent = "";
    ul.classList.add("passkeys");
    keys.forEach(function (p) { ul.appendChild(item(p, changed)); });
  };

  function item(p, changed) {
    var li = el("li");
    li.setAttribute("data-id", p.id);
    var rename = button("Rename", "button-secondary button-small rename", "Rename passkey " + p.name);
    var remove = button("Remove", "button-secondary button-small text-danger remove", "Remove passkey " + p.name);
    var about = put(el("div", "passkey-about"), el("span", "what", p.name), el("span", "meta", "Added " + day(p.created_at) +
      (p.last_used_at ? " \u00b7 last used " + day(p.last_used_at) : " \u00b7 not used yet")));
    put(li, about, put(el("div", "passkey-actions"), rename, remove));
    rename.addEventListener("click", function () { renameForm(li, p, changed); });
    remove.addEventListener("click", function () { confirmRemove(li, p, changed); });
    return li;
  }

  // panel replaces the passkey's buttons with node until closed; Escape
  // closes it and gives the focus back to the button that opened it.
  function panel(li, node, opener) {
    var actions = li.querySelector(".passkey-actions");
    actions.hidden = true;
    li.appendChild(node);
    function close() {
      node.remove();
      actions.hidden = false;
      li.querySelector(opener).focus();
    }
    node.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") { ev.preventDefault(); close(); }
    });
    return close;
  }

  function renameForm(li, p, changed) {
    var form = el("form", "passkey-panel");
    form.noValidate = true;
    var field = el("div", "field");
    var label = el("label", "", "New name for " + p.name);
    var input = el("input");
    input.id = label.htmlFor = "passkey-name-" + p.id;
    input.value = p.name;
    input.maxLength = 100;
    input.required = true;
    input.autocomplete = "off";
    var error = el("p", "field-error");
    error.id = input.id + "-error";
    error.setAttribute("role", "alert");
    input.setAttribute("aria-describedby", error.id);
    var save = el("button", "button-small", "Save name");
    save.type = "submit";
    var cancel = button("Cancel", "button-secondary button-small");
    put(form, put(field, label, input, error), put(el("div", "passkey-actions"), save, cancel));
    var close = panel(li, form, ".rename");
    cancel.addEventListener("click", close);
    function invalid(text) {
      error.textContent = text;
      input.setAttribute("aria-invalid", "true");
      input.focus();
    }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var name = input.value.trim();
      if (!name) { invalid("Enter a name."); return; }
      save.disabled = cancel.disabled = true;
      w.api("PATCH", "/v1/wallet/passkeys/" + encodeURIComponent(p.id), { name: name }).then(function (r) {
        if (r.status === 400) { invalid(w.errorText(r)); return; }
        if (r.status !== 200) throw new Error(w.errorText(r));
        w.show("Passkey renamed to " + quoted(r.data.name) + ".", true);
        return changed().then(function () { focusLater(p.id, ".rename", "add-passkey"); });
      }).catch(function (e) { w.show(e.message); }).finally(function () { save.disabled = cancel.disabled = false; });
    });
    input.focus();
    input.select();
  }

  function confirmRemove(li, p, changed) {
    var box = el("div", "passkey-panel");
    box.setAttribute("role", "group");
    var question = el("p", "", "Remove " + quoted(p.name) + "? You will no longer log in or confirm payments with it. " +
      "You will be asked to confirm with one of your passkeys.");
    question.id = "passkey-remove-" + p.id;
    box.setAttribute("aria-labelledby", question.id);
    var yes = button("Remove passkey", "button-small button-danger confirm-remove");
    var no = button("Keep it", "button-secondary button-small");
    put(box, question, put(el("div", "passkey-actions"), yes, no));
    var close = panel(li, box, ".remove");
    no.addEventListener("click", close);
    yes.addEventListener("click", function () {
      yes.disabled = no.disabled = true;
      w.show("Confirm with one of your passkeys to remove " + quoted(p.name) + ".", true);
      remove(p.id).then(function () {
        w.show("Passkey " + quoted(p.name) + " removed.", true);
        return changed().then(function () { focusLater("", "", "add-passkey"); });
      }).catch(function (e) {
        w.show(e.name === "NotAllowedError" ? "The passkey confirmation was cancelled; " + quoted(p.name) + " was kept." : e.message);
        yes.disabled = no.disabled = false;
      });
    });
    no.focus();
  }

  // Adding a passkey once the user has one needs a confirmation by an
  // existing passkey first (the server refuses it otherwise), so a
  // password alone can never add one.
  var add = document.getElementById("add-passkey");
  if (add) add.addEventListener("click", function () {
    var stepUp = null;
    add.disabled = true;
    w.show(count ? "First confirm with a passkey you already have." : "", true);
    w.confirmFirst(count > 0, { action: "add_passkey" }).then(function (assertion) {
      stepUp = assertion;
      if (assertion) w.show("Confirmed. Now create the new passkey.", true);
      return w.api("POST", "/v1/wallet/passkeys/register/begin", {});
    }).then(function (r) {
      if (r.status !== 200) throw new Error(w.errorText(r));
      return navigator.credentials.create(w.creationOptions(r.data));
    }).then(function (cred) {
      var body = { name: count ? "Passkey " + (count + 1) : "Passkey", credential: w.credentialJSON(cred) };
      if (stepUp) body.passkey_assertion = stepUp;
      return w.api("POST", "/v1/wallet/passkeys/register/finish", body);
    }).then(function (r) {
      if (r.status !== 201) throw new Error(w.errorText(r));
      w.show("Passkey added. You can now log in and confirm payments with it.", true);
      return reload();
    }).catch(function (e) {
      if (e.name === "InvalidStateError") {
        w.show("This device already holds a passkey for your wallet; add one from another device or security key.");
      } else {
        w.show(e.name === "NotAllowedError" ? "The passkey request was cancelled." : e.message);
      }
    }).finally(function () { add.disabled = false; });
  });

  // remove deletes passkey id. Without a recent passkey log-in the server
  // answers passkey_step_up_required; then a passkey confirms the removal
  // of this one (the one removed may confirm it too) and it is sent again.
  function remove(id) {
    var path = "/v1/wallet/passkeys/" + encodeURIComponent(id);
    return w.api("DELETE", path, {}).then(function (r) {
      if (r.status === 200) return r;
      if (r.status !== 403 || !r.data.error || r.data.error.code !== "passkey_step_up_required") throw new Error(w.errorText(r));
      return w.confirmFirst(true, { action: "remove_passkey", passkey: id }).then(function (assertion) {
        return w.api("DELETE", path, { passkey_assertion: assertion });
      }).then(function (r) {
        if (r.status !== 200) throw new Error(w.errorText(r));
        return r;
      });
    });
  }
})();
