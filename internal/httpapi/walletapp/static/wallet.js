// Paylink wallet pages: sign-up, log-in (password or passkey) and the
// account page. No framework, no inline script (the CSP forbids it).
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };

  // --- WebAuthn JSON <-> ArrayBuffer (base64url) ---
  function b64uToBuf(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function bufToB64u(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function creationOptions(json) {
    var pk = json.publicKey;
    pk.challenge = b64uToBuf(pk.challenge);
    pk.user.id = b64uToBuf(pk.user.id);
    (pk.excludeCredentials || []).forEach(function (c) { c.id = b64uToBuf(c.id); });
    return { publicKey: pk };
  }
  function requestOptions(json) {
    var pk = json.publicKey;
    pk.challenge = b64uToBuf(pk.challenge);
    (pk.allowCredentials || []).forEach(function (c) { c.id = b64uToBuf(c.id); });
    return { publicKey: pk };
  }
  function credentialJSON(cred) {
    var r = cred.response, out = {
      id: cred.id, rawId: bufToB64u(cred.rawId), type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: bufToB64u(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = bufToB64u(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = bufToB64u(r.authenticatorData);
      out.response.signature = bufToB64u(r.signature);
      if (r.userHandle) out.response.userHandle = bufToB64u(r.userHandle);
    }
    return out;
  }

  // --- API calls ---
  function newKey() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return "web_" + bufToB64u(b.buffer);
  }
  // api sends JSON with an Idempotency-Key (one per user action, reused
  // when the same action is retried) and resolves to {status, data, retryAfter}.
  function api(method, path, body, key) {
    var headers = { "Accept": "application/json" };
    var init = { method: method, headers: headers, credentials: "same-origin" };
    if (method !== "GET") {
      headers["Content-Type"] = "application/json";
      headers["Idempotency-Key"] = key || newKey();
      init.body = JSON.stringify(body || {});
    }
    return fetch(path, init).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) {
        return { status: res.status, data: data, retryAfter: res.headers.get("Retry-After") };
      });
    });
  }
  // errorText is what to tell the user about the failed call r. A 429's
  // message is written for programs ("the number of seconds in
  // Retry-After"): say in minutes when to try again instead.
  function errorText(r) {
    if (r.status === 429) {
      var minutes = Math.max(1, Math.ceil((parseInt(r.retryAfter, 10) || 60) / 60));
      return "Too many attempts. Try again in " + (minutes === 1 ? "a minute." : minutes + " minutes.");
    }
    return (r.data && r.data.error && r.data.error.message) || "Something went wrong. Try again.";
  }
  // show writes text in the page's message box. On the wallet page the
  // box is at the top and the forms below it (far below, on a phone): an
  // answer out of sight is brought on screen, or the form seems to do
  // nothing.
  function show(text, ok) {
    var m = $("message");
    if (!m) return;
    m.textContent = text || "";
    m.className = "alert " + (ok ? "alert-ok" : "alert-error");
    var r = m.getBoundingClientRect();
    if (text && (r.top < 0 || r.bottom > window.innerHeight)) m.scrollIntoView({ block: "center" });
  }
  function busy(button, on) { if (button) button.disabled = on; }

  // --- amounts (no floats: "12.50" -> 1250) ---
  var exponents = { JPY: 0, KRW: 0, BHD: 3, KWD: 3, JOD: 3, OMR: 3, TND: 3 };
  function exponent(c) { return c in exponents ? exponents[c] : 2; }
  // toMinor reads text as an amount of currency in minor units, or null.
  // A thousand written as the page writes it, "1,000.00" (or "1.000,00"
  // in German), loses its grouping; a lone "," or "." is the decimal mark.
  function toMinor(text, currency) {
    var exp = exponent(currency), s = (text || "").trim();
    if (/^\d{1,3}(,\d{3})+(\.\d*)?$/.test(s)) s = s.replace(/,/g, "");
    else if (/^\d{1,3}(\.\d{3})+,\d*$/.test(s)) s = s.replace(/\./g, "");
    var m = /^(\d+)(?:[.,](\d*))?$/.exec(s);
    if (!m) return null;
    var frac = (m[2] || "");
    if (frac.length > exp) return null;
    while (frac.length < exp) frac += "0";
    var n = parseInt(m[1] + frac, 10);
    return n > 0 ? n : null;
  }
  // maxMinor is the most one movement may carry (API.md: 1 ≤ amount ≤
  // 99 999 999 minor units).
  var maxMinor = 99999999;
  // readAmount is the amount in field id in minor units of currency, or
  // null once the page said what is wrong with it.
  function readAmount(id, currency, example) {
    var n = toMinor($(id).value, currency);
    if (!n) {
      show("Enter an amount like " + example + ".");
      return null;
    }
    if (n > maxMinor) {
      show("The most one top-up, transfer or withdrawal can carry is " + format(maxMinor, currency) + ".");
      return null;
    }
    return n;
  }
  function format(minor, currency) {
    try {
      var exp = exponent(currency), s = String(minor);
      while (s.length <= exp) s = "0" + s;
      var whole = s.slice(0, s.length - exp), frac = exp ? "." + s.slice(s.length - exp) : "";
      return new Intl.NumberFormat(undefined, { style: "currency", currency: currency, minimumFractionDigits: exp })
        .format(whole + frac === "" ? 0 : Number(whole + frac));
    } catch (e) {
      return minor + " " + currency;
    }
  }

  // --- passkeys ---
  function passkeyGet(options) {
    return navigator.credentials.get(requestOptions(options)).then(credentialJSON);
  }

  // confirmFirst resolves to the assertion of a passkey confirmation
  // begun with body (confirm/begin) when needed, else to null.
  function confirmFirst(needed, body) {
    if (!needed) return Promise.resolve(null);
    return api("POST", "/v1/wallet/passkeys/confirm/begin", body).then(function (r) {
      if (r.status !== 200) throw new Error(errorText(r));
      return passkeyGet(r.data);
    });
  }

  function loginWithPasskey(button) {
    busy(button, true);
    show("");
    return api("POST", "/v1/wallet/passkeys/login/begin", {}).then(function (r) {
      if (r.status !== 200) throw new Error(errorText(r));
      return passkeyGet(r.data);
    }).then(function (cred) {
      return api("POST", "/v1/wallet/passkeys/login/finish", { credential: cred });
    }).then(function (r) {
      if (r.status !== 200) throw new Error(errorText(r));
      window.location.assign(next());
    }).catch(function (e) {
      show(e.name === "NotAllowedError" ? "The passkey request was cancelled." : e.message);
    }).finally(function () { busy(button, false); });
  }

  // next is where to go after logging in: ?next= resolved against this
  // page's own origin, as the browser itself would resolve it (so "/\x",
  // "/<tab>/x", "//x" and "https://x" are seen for the other sites they
  // are), followed only when it stays on this origin, and then only its
  // path and query.
  function next() {
    var n = new URLSearchParams(window.location.search).get("next");
    if (!n) return "/wallet";
    var u;
    try {
      u = new URL(n, window.location.origin);
    } catch (e) {
      return "/wallet";
    }
    if (u.origin !== window.location.origin || (u.protocol !== "http:" && u.protocol !== "https:")) return "/wallet";
    return u.pathname + u.search;
  }

  // What wallet-passkeys.js builds on; it adds renderPasskeys.
  window.PaylinkWallet = { api: api, errorText: errorText, show: show, confirmFirst: confirmFirst,
    creationOptions: creationOptions, credentialJSON: credentialJSON };

  // --- pages ---
  // signupPage sends the form; a refusal that names a field (the API's
  // param) marks that field invalid, described by the message, and puts
  // the focus in it, so the user need not guess which one it means.
  function signupPage(form) {
    var fields = ["email", "password", "first_name", "middle_name", "last_name", "phone"];
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var b = $("signup-submit"), body = {}, param = "";
      fields.forEach(function (k) {
        body[k] = $(k).value;
        $(k).removeAttribute("aria-invalid");
        $(k).removeAttribute("aria-describedby");
      });
      busy(b, true);
      api("POST", "/v1/wallet/signup", body).then(function (r) {
        if (r.status !== 201) {
          param = (r.data && r.data.error && r.data.error.param) || "";
          throw new Error(errorText(r));
        }
        return api("POST", "/v1/wallet/login", { email: body.email, password: body.password });
      }).then(function (r) {
        if (r.status !== 200) throw new Error(errorText(r));
        window.location.assign(next());
      }).catch(function (e) {
        show(e.message);
        if (fields.indexOf(param) < 0) return;
        $(param).setAttribute("aria-invalid", "true");
        $(param).setAttribute("aria-describedby", "message");
        $(param).focus();
      }).finally(function () { busy(b, false); });
    });
  }

  function loginPage(form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var b = $("login-submit");
      busy(b, true);
      show("");
      api("POST", "/v1/wallet/login", { email: $("email").value, password: $("password").value }).then(function (r) {
        if (r.status !== 200) throw new Error(errorText(r));
        window.location.assign(next());
      }).catch(function (e) { show(e.message); }).finally(function () { busy(b, false); });
    });
    $("passkey-login").addEventListener("click", function () { loginWithPasskey($("passkey-login")); });
  }

  function walletPage(root) {
    var currencies = (root.getAttribute("data-currencies") || "USD").split(",");
    var user = null, cursor = "";
    document.querySelectorAll("select.currency").forEach(function (sel) {
      currencies.forEach(function (c) {
        var o = document.createElement("option");
        o.value = o.textContent = c;
        if (c === "USD") o.selected = o.defaultSelected = true; // form.reset() keeps USD
        sel.appendChild(o);
      });
    });

    function li(cls) { var e = document.createElement("li"); if (cls) e.className = cls; return e; }
    function span(cls, text) { var e = document.createElement("span"); e.className = cls; e.textContent = text; return e; }

    function loadAccount() {
      return api("GET", "/v1/wallet/account").then(function (r) {
        if (r.status === 401) { window.location.assign("/wallet/login?next=/wallet"); return; }
        if (r.status !== 200) throw new Error(errorText(r));
        user = r.data.user;
        $("who").textContent = user.first_name + " " + user.last_name + " · " + user.email;
        var ul = $("balances");
        ul.textContent = "";
        if (!r.data.balances.length) ul.appendChild(span("muted", "No money yet: add some below."));
        r.data.balances.forEach(function (b) {
          var e = li();
          e.textContent = format(b.amount, b.currency);
          e.setAttribute("data-currency", b.currency);
          ul.appendChild(e);
        });
        $("passkey-status").textContent = user.has_passkey
          ? "Payments, transfers and withdrawals are confirmed with your passkey."
          : "Log in and confirm payments with your fingerprint, face or device PIN instead of a password.";
      });
    }
    // loadPasskeys redraws the list of passkeys, which is aria-busy until
    // then: its buttons are about to be replaced.
    function loadPasskeys() {
      $("passkeys").setAttribute("aria-busy", "true");
      return api("GET", "/v1/wallet/passkeys").then(function (r) {
        var ul = $("passkeys"), list = r.data.data || [];
        if (window.PaylinkWallet.renderPasskeys) { // with its buttons
          window.PaylinkWallet.renderPasskeys(ul, list, refresh);
          return;
        }
        ul.textContent = "";
        list.forEach(function (p) {
          var e = li();
          e.textContent = p.name + " · added " + new Date(p.created_at).toLocaleDateString();
          ul.appendChild(e);
        });
      }).finally(function () { $("passkeys").removeAttribute("aria-busy"); });
    }
    // Nouns, not verbs: "Added money" beside "Failed" said both.
    var labels = { topup: "Top-up", transfer_in: "Received", transfer_out: "Sent", payment: "Paid", refund: "Refund",
      withdrawal: "Withdrawal" };
    var statuses = { succeeded: "Succeeded", processing: "Processing", requires_action: "Waiting for your bank",
      failed: "Failed", canceled: "Canceled", pending: "Pending" };
    var poll = null;
    // loadHistory lists the history with the chosen filters; while a
    // movement is still on its way it looks again every few seconds, so
    // a withdrawal's outcome shows without reloading.
    function loadHistory(more) {
      var q = "/v1/wallet/transactions?limit=10" + (more && cursor ? "&starting_after=" + encodeURIComponent(cursor) : "");
      if ($("history_type").value) q += "&type=" + encodeURIComponent($("history_type").value);
      if ($("history_status").value) q += "&status=" + encodeURIComponent($("history_status").value);
      return api("GET", q).then(function (r) {
        var ul = $("history");
        if (!more) ul.textContent = "";
        var list = r.data.data || [], waiting = false;
        if (!list.length && !more) ul.appendChild(span("muted", "Nothing here yet."));
        list.forEach(function (t) {
          var e = li(), incoming = t.type === "topup" || t.type === "transfer_in" || t.type === "refund";
          // Only money that moved (or is on its way) gets a sign; what
          // failed or was canceled moved nothing in the end.
          var moved = t.status === "succeeded" || t.status === "processing";
          var void_ = t.status === "failed" || t.status === "canceled";
          waiting = waiting || t.status === "processing";
          e.setAttribute("data-id", t.id);
          e.appendChild(span("what", labels[t.type] + (t.counterparty ? " · " + t.counterparty : "")));
          e.appendChild(span("amt" + (moved && incoming ? " in" : "") + (void_ ? " void" : ""),
            (moved ? (incoming ? "+" : "−") : "") + format(t.amount, t.currency)));
          e.appendChild(span("meta", new Date(t.created_at).toLocaleString() + (t.note ? " · " + t.note : "") +
            (t.failure_code ? " · " + t.failure_code.replace(/_/g, " ") : "")));
          e.appendChild(span("meta status status-" + t.status, statuses[t.status] || t.status));
          if (t.type === "topup" && t.status === "requires_action") { // left before answering the bank
            var go = document.createElement("a");
            go.className = "meta";
            go.href = "/wallet/topups/" + encodeURIComponent(t.id) + "/challenge";
            go.textContent = "Answer your bank's check";
            e.appendChild(go);
          }
          ul.appendChild(e);
          cursor = t.id;
        });
        $("history-more").hidden = !r.data.has_more;
        if (waiting && !poll) {
          poll = setTimeout(function () { poll = null; loadMoney(); }, 3000);
        }
      });
    }
    // loadMoney reads the history, then the balances and notifications.
    // Read after the history, they include every movement it shows (a
    // refused withdrawal's refund commits with its status); read beside
    // it, a withdrawal settled in between showed as failed next to the
    // balance from before its refund.
    function loadMoney() {
      return loadHistory(false).then(function () { return Promise.all([loadAccount(), loadNotifications()]); });
    }
    function loadNotifications() {
      return api("GET", "/v1/wallet/notifications?limit=20").then(function (r) {
        var ul = $("notifications");
        ul.textContent = "";
        var list = r.data.data || [];
        if (!list.length) ul.appendChild(span("muted", "No notifications."));
        list.forEach(function (n) {
          var e = li(n.read ? "" : "unread");
          e.appendChild(span("what", n.message));
          e.appendChild(span("meta", new Date(n.created_at).toLocaleString()));
          ul.appendChild(e);
        });
      });
    }
    // reread shows the balances and history as they are now after a
    // refused transfer or withdrawal: money spent in another tab makes
    // "too low" the answer beside a balance that looked enough. Its own
    // failure leaves the refusal's message in place.
    function reread() {
      return loadMoney().catch(function () {});
    }
    function refresh() {
      return Promise.all([loadPasskeys(), loadMoney()])
        .catch(function (e) { show(e.message); });
    }

    $("logout").addEventListener("click", function () {
      api("POST", "/v1/wallet/logout", {}).then(function (r) {
        if (r.status !== 200) throw new Error(errorText(r));
        window.location.assign("/wallet/login");
      }).catch(function (e) { show(e.message); });
    });
    $("history-more").addEventListener("click", function () { loadHistory(true); });
    ["history_type", "history_status"].forEach(function (f) {
      $(f).addEventListener("change", function () { cursor = ""; loadHistory(false); });
    });
    $("read-all").addEventListener("click", function () {
      api("POST", "/v1/wallet/notifications/read_all", {}).then(loadNotifications);
    });
    // One Idempotency-Key per attempt of a form; a retry after a network
    // error reuses it, a changed form gets a new one.
    function keyed() {
      var key = null, last = "";
      return function (body) {
        var sig = JSON.stringify(body);
        if (sig !== last) { key = newKey(); last = sig; }
        return key;
      };
    }
    var transferKey = keyed(), topupKey = keyed(), withdrawKey = keyed();

    // cardBody reads the card fields whose ids start with prefix.
    function cardBody(prefix) {
      var exp = /^\s*(\d{1,2})\s*\/\s*(\d{2}|\d{4})\s*$/.exec($(prefix + "card_exp").value);
      if (!exp) return null;
      var year = parseInt(exp[2], 10);
      return { number: $(prefix + "card_number").value.replace(/[\s-]/g, ""), exp_month: parseInt(exp[1], 10),
        exp_year: year < 100 ? 2000 + year : year, cvc: $(prefix + "card_cvc").value.trim() };
    }

    $("transfer-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var b = $("transfer-submit"), currency = $("transfer_currency").value;
      var amount = readAmount("transfer_amount", currency, "12.50");
      if (!amount) return;
      var body = { receiver_email: $("receiver_email").value.trim(), amount: amount, currency: currency, note: $("note").value };
      busy(b, true);
      show("");
      confirmFirst(user && user.has_passkey,
        { action: "transfer", receiver_email: body.receiver_email, amount: amount, currency: currency }).then(function (assertion) {
        var send = Object.assign({}, body);
        if (assertion) send.passkey_assertion = assertion;
        return api("POST", "/v1/wallet/transfers", send, transferKey(send));
      }).then(function (r) {
        if (r.status !== 201) throw new Error(errorText(r));
        show("Sent " + format(r.data.amount, r.data.currency) + " to " + r.data.counterparty + ".", true);
        $("transfer-form").reset();
        return refresh();
      }).catch(function (e) {
        show(e.name === "NotAllowedError" ? "The passkey confirmation was cancelled; nothing was sent." : e.message);
        return reread();
      }).finally(function () { busy(b, false); });
    });

    $("topup-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var b = $("topup-submit"), currency = $("topup_currency").value;
      var amount = readAmount("topup_amount", currency, "20.00");
      if (!amount) return;
      var card = cardBody("");
      if (!card) { show("Enter the card's expiry as MM/YY."); return; }
      var body = { amount: amount, currency: currency, card: card };
      busy(b, true);
      show("");
      api("POST", "/v1/wallet/topup", body, topupKey(body)).then(function (r) {
        if (r.status === 200 && r.data.next_action && r.data.next_action.url) {
          window.location.assign(r.data.next_action.url);
          return;
        }
        if (r.status !== 201) throw new Error(errorText(r));
        show("Added " + format(r.data.amount, r.data.currency) + " to your wallet.", true);
        $("topup-form").reset();
        return refresh();
      }).catch(function (e) { show(e.message); }).finally(function () { busy(b, false); });
    });

    $("withdraw-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var b = $("withdraw-submit"), currency = $("withdraw_currency").value;
      var amount = readAmount("withdraw_amount", currency, "20.00");
      if (!amount) return;
      var card = cardBody("withdraw_");
      if (!card) { show("Enter the card's expiry as MM/YY."); return; }
      var body = { amount: amount, currency: currency, card: card };
      busy(b, true);
      show("");
      // With a passkey, money leaves the wallet only once a passkey
      // confirms this card, amount and currency (as for a transfer).
      confirmFirst(user && user.has_passkey,
        { action: "withdrawal", amount: amount, currency: currency, card: { number: card.number } }).then(function (assertion) {
        var send = Object.assign({}, body);
        if (assertion) send.passkey_assertion = assertion;
        return api("POST", "/v1/wallet/withdrawals", send, withdrawKey(send));
      }).then(function (r) {
        if (r.status !== 201) throw new Error(errorText(r));
        show("Withdrawing " + format(r.data.amount, r.data.currency) + " to the card ending in " + r.data.card.last4 +
          ". The history shows when it arrives.", true);
        $("withdraw-form").reset();
        return refresh();
      }).catch(function (e) {
        show(e.name === "NotAllowedError" ? "The passkey confirmation was cancelled; nothing was withdrawn." : e.message);
        return reread();
      }).finally(function () { busy(b, false); });
    });

    // Back from a top-up's bank check: say how it ended.
    var topup = new URLSearchParams(window.location.search).get("topup");
    if (topup) {
      api("GET", "/v1/wallet/transactions/" + encodeURIComponent(topup)).then(function (r) {
        if (r.status !== 200) return;
        var t = r.data;
        show(t.status === "succeeded" ? "Added " + format(t.amount, t.currency) + " to your wallet."
          : "The top-up of " + format(t.amount, t.currency) + " was not added: your bank did not confirm it.", t.status === "succeeded");
      });
    }

    refresh();
  }

  // "Pay with Paylink balance" on the hosted checkout page: confirm with
  // the passkey when the user has one, then pay the link from the wallet.
  function walletPay(root) {
    var button = $("wallet-pay-button");
    if (!button) return;
    var key = null;
    button.addEventListener("click", function () {
      busy(button, true);
      show("");
      confirmFirst(root.getAttribute("data-passkey") === "true",
        { action: "payment", payment_link: root.getAttribute("data-link") }).then(function (assertion) {
        var method = { type: "wallet" };
        if (assertion) method.passkey_assertion = assertion;
        key = assertion || !key ? newKey() : key;
        return api("POST", location.pathname + location.search, { payment_method: method }, key);
      }).then(function (r) {
        if (r.status === 200 && r.data.receipt_url) {
          window.location.assign(r.data.receipt_url);
          return;
        }
        if (r.status === 403 || r.status === 404 || r.status === 410) {
          if (r.data.error && /^passkey_/.test(r.data.error.code)) throw new Error(errorText(r));
          window.location.reload();
          return;
        }
        throw new Error(errorText(r));
      }).catch(function (e) {
        show(e.name === "NotAllowedError" ? "The passkey confirmation was cancelled; you were not charged." : e.message);
        busy(button, false);
      });
    });
  }

  // The simulated issuer's check of a top-up: approve or fail, then back
  // to the wallet, which shows the outcome.
  function challengePage(root) {
    var buttons = root.querySelectorAll("button[data-outcome]"), keys = {};
    Array.prototype.forEach.call(buttons, function (b) {
      b.addEventListener("click", function () {
        var outcome = b.getAttribute("data-outcome");
        keys[outcome] = keys[outcome] || newKey();
        Array.prototype.forEach.call(buttons, function (x) { x.disabled = true; });
        show("");
        api("POST", "/v1/wallet/topups/" + encodeURIComponent(root.getAttribute("data-id")) + "/challenge",
          { outcome: outcome }, keys[outcome]).then(function (r) {
          if (r.status !== 200) throw new Error(errorText(r));
          window.location.assign("/wallet?topup=" + encodeURIComponent(r.data.id));
        }).catch(function (e) {
          show(e.message);
          Array.prototype.forEach.call(buttons, function (x) { x.disabled = false; });
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if ($("topup-challenge")) challengePage($("topup-challenge"));
    if ($("wallet-pay")) walletPay($("wallet-pay"));
    if ($("signup-form")) signupPage($("signup-form"));
    if ($("login-form")) loginPage($("login-form"));
    if ($("wallet")) walletPage($("wallet"));
  });
})();
