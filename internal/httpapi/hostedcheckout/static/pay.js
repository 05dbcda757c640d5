// Paylink hosted checkout: inline validation, brand detection and the
// JSON POST of the card form. No framework; served from our origin only
// (the page's CSP allows no inline script). The embedded payment form
// (embed.js) reuses it through two events on the form: "paylink:payload"
// (detail: the body about to be sent, to add fields to) and
// "paylink:answer" (detail: {status, body}; preventDefault() takes the
// answer over).
(function () {
  "use strict";

  var form = document.getElementById("pay-form");
  if (!form) { return; }
  var button = document.getElementById("pay-button");
  var formError = document.getElementById("form-error");
  var brandLabel = document.getElementById("number-brand");
  var accepted = (form.getAttribute("data-brands") || "").split(" ");
  var inCurrency = (form.getAttribute("data-currency-brands") || "").split(" ");
  var names = { visa: "Visa", mastercard: "Mastercard", amex: "American Express", discover: "Discover" };
  var input = {
    email: document.getElementById("email"),
    name: document.getElementById("name"),
    number: document.getElementById("number"),
    expiry: document.getElementById("expiry"),
    cvc: document.getElementById("cvc")
  };
  // The server names the offending field in error.param.
  var byParam = {
    "email": "email", "name": "name",
    "payment_method.card.number": "number", "payment_method.card.exp_month": "expiry",
    "payment_method.card.exp_year": "expiry", "payment_method.card.cvc": "cvc"
  };
  // One Idempotency-Key per attempt: kept while the same attempt is
  // retried (network failure, request still running), dropped once the
  // server gave a final answer, so a double click never charges twice.
  var attemptKey = null;
  var sending = false;

  function digits(s) { return s.replace(/\D/g, ""); }

  function prefixIn(n, lo, hi, width) {
    if (n.length < width) { return false; }
    var v = parseInt(n.slice(0, width), 10);
    return v >= lo && v <= hi;
  }

  function brandOf(n) {
    if (/^4/.test(n)) { return "visa"; }
    if (prefixIn(n, 51, 55, 2) || prefixIn(n, 2221, 2720, 4)) { return "mastercard"; }
    if (/^3[47]/.test(n)) { return "amex"; }
    if (/^(6011|65)/.test(n) || prefixIn(n, 644, 649, 3)) { return "discover"; }
    return "";
  }

  function luhn(n) {
    var sum = 0, dbl = false;
    for (var i = n.length - 1; i >= 0; i--) {
      var d = n.charCodeAt(i) - 48;
      if (dbl) { d *= 2; if (d > 9) { d -= 9; } }
      sum += d;
      dbl = !dbl;
    }
    return n.length >= 12 && n.length <= 19 && sum % 10 === 0;
  }

  function groupNumber(n, brand) {
    var groups = brand === "amex" ? [4, 6, 5] : [4, 4, 4, 4, 3];
    var out = [], at = 0;
    for (var i = 0; i < groups.length && at < n.length; i++) {
      out.push(n.slice(at, at + groups[i]));
      at += groups[i];
    }
    return out.join(" ");
  }

  function parseExpiry(v) {
    var m = v.replace(/\s/g, "").match(/^(\d{1,2})\/?(\d{2}|\d{4})$/);
    if (!m) { return null; }
    var year = parseInt(m[2], 10);
    if (m[2].length === 2) { year += 2000; }
    return { month: parseInt(m[1], 10), year: year };
  }

  function check(field) {
    var v = input[field].value.trim();
    var n = digits(input.number.value);
    switch (field) {
    case "email":
      return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v) ? "" : "Enter a valid e-mail address.";
    case "name":
      return v.length > 0 ? "" : "Enter the name on the card.";
    case "number":
      if (!n) { return "Enter your card number."; }
      if (!luhn(n)) { return "Your card number is invalid. Check it and try again."; }
      var brand = brandOf(n);
      if (!brand) { return "This card brand is not supported."; }
      if (inCurrency.indexOf(brand) < 0) { return names[brand] + " cards cannot pay in this currency. Try another card."; }
      if (accepted.indexOf(brand) < 0) { return "This merchant does not accept " + names[brand] + " cards. Try another card."; }
      return "";
    case "expiry":
      var e = parseExpiry(v);
      if (!e || e.month < 1 || e.month > 12) { return "Enter the expiry as MM / YY."; }
      var now = new Date();
      var y = now.getUTCFullYear(), mo = now.getUTCMonth() + 1;
      if (e.year < y || (e.year === y && e.month < mo)) { return "Your card has expired."; }
      return "";
    case "cvc":
      var want = brandOf(n) === "amex" ? 4 : 3;
      return new RegExp("^\\d{" + want + "}$").test(v) ? "" : "Enter the " + want + "-digit security code.";
    }
    return "";
  }

  function show(field, msg) {
    var el = document.getElementById(field + "-error");
    el.textContent = msg;
    if (msg) { input[field].setAttribute("aria-invalid", "true"); } else { input[field].removeAttribute("aria-invalid"); }
  }

  input.number.addEventListener("input", function () {
    var n = digits(input.number.value).slice(0, 19);
    var brand = brandOf(n);
    input.number.value = groupNumber(n, brand);
    // The label sits inside the field: short names keep it clear of the digits.
    brandLabel.textContent = brand ? (brand === "amex" ? "Amex" : names[brand]) : "";
    input.cvc.setAttribute("maxlength", brand === "amex" ? "4" : "3");
  });
  input.expiry.addEventListener("input", function (ev) {
    var d = digits(input.expiry.value).slice(0, 4);
    if (ev.inputType && ev.inputType.indexOf("delete") === 0) { return; }
    input.expiry.value = d.length > 2 ? d.slice(0, 2) + " / " + d.slice(2) : (d.length === 2 ? d + " / " : d);
  });
  input.cvc.addEventListener("input", function () { input.cvc.value = digits(input.cvc.value).slice(0, 4); });
  Object.keys(input).forEach(function (field) {
    input[field].addEventListener("blur", function () {
      if (input[field].value.trim() !== "") { show(field, check(field)); }
    });
    input[field].addEventListener("input", function () {
      if (input[field].getAttribute("aria-invalid") === "true" && !check(field)) { show(field, ""); }
      attemptKey = null; // changed input is a new attempt
    });
  });

  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }

  function busy(on) {
    sending = on;
    button.disabled = on;
    button.textContent = on ? "Processing…" : button.getAttribute("data-label");
    form.setAttribute("aria-busy", on ? "true" : "false");
  }

  function fail(msg, param) {
    busy(false);
    var field = byParam[param];
    if (field) {
      show(field, msg);
      input[field].focus();
      formError.textContent = "";
    } else {
      // A decline names no field: bring its message into view and give
      // it focus, so a shopper who pressed Enter in the last field (or
      // below the fold on a phone) sees it and a screen reader reads it.
      formError.textContent = msg;
      formError.focus();
    }
  }

  function payload() {
    var e = parseExpiry(input.expiry.value) || { month: 0, year: 0 };
    var body = {
      email: input.email.value.trim(),
      name: input.name.value.trim(),
      payment_method: { type: "card", card: {
        number: digits(input.number.value), exp_month: e.month, exp_year: e.year, cvc: input.cvc.value.trim()
      } }
    };
    form.dispatchEvent(new CustomEvent("paylink:payload", { detail: body }));
    return JSON.stringify(body);
  }

  function send() {
    busy(true);
    formError.textContent = "";
    fetch(location.pathname + location.search, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Idempotency-Key": attemptKey },
      body: payload()
    }).then(function (res) {
      return res.json().then(function (body) { answer(res.status, body); });
    }).catch(function () {
      fail("We could not reach Paylink. Check your connection and try again; you will not be charged twice.");
    });
  }

  function answer(status, body) {
    if (!form.dispatchEvent(new CustomEvent("paylink:answer", { detail: { status: status, body: body }, cancelable: true }))) {
      return;
    }
    var err = body.error || {};
    if (status === 200 && body.next_action && body.next_action.url) {
      location.assign(body.next_action.url);
      return;
    }
    if (status === 200 && body.payment) {
      location.assign(body.receipt_url);
      return;
    }
    if (status === 409 && err.code === "idempotency_key_in_use") {
      setTimeout(send, 1000); // the same attempt is still running: ask again
      return;
    }
    if (status === 403 || status === 404 || status === 410) {
      location.reload(); // the server shows why this link cannot be paid
      return;
    }
    if (status >= 500) {
      fail(err.message || "Something went wrong. Try again; you will not be charged twice.");
      return;
    }
    attemptKey = null;
    if (status === 429) {
      fail("Too many attempts. Wait a minute, then try again.");
      return;
    }
    fail(err.message || "The payment did not go through.", err.param);
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (sending) { return; }
    var first = null;
    Object.keys(input).forEach(function (field) {
      var msg = check(field);
      show(field, msg);
      if (msg && !first) { first = field; }
    });
    if (first) {
      input[first].focus();
      return;
    }
    if (!attemptKey) { attemptKey = newKey(); }
    send();
  });
})();
