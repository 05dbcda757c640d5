// Paylink embedded payment form: talks to the merchant's page that framed
// it (the Paylink JS SDK) by postMessage, and only to it: messages go to
// the exact origin the server checked against the form's allowed origins
// (data-parent-origin), and only messages from window.parent at that
// origin are read. It posts "ready" (form page), "resize" (whenever the
// content's height changes), "success" and "error"; it applies the
// appearance the SDK sends with "init". On the form page it adds the
// amount, phone and billing address to the card form of pay.js.
(function () {
  "use strict";

  var SOURCE = "paylink";
  var STORE = "paylink.appearance";
  var body = document.body;
  var parentOrigin = body.getAttribute("data-parent-origin") || "";
  var framed = window.parent !== window && parentOrigin !== "";

  function post(message) {
    if (!framed) { return; }
    message.source = SOURCE;
    window.parent.postMessage(message, parentOrigin);
  }

  // Appearance: every value is checked before it reaches the page, and it
  // is applied as CSS custom properties (CSSOM), never as a style attribute.
  var fonts = {
    system: "system-ui, -apple-system, \"Segoe UI\", Roboto, \"Helvetica Neue\", Arial, sans-serif",
    serif: "Georgia, \"Times New Roman\", serif",
    mono: "ui-monospace, \"SFMono-Regular\", Menlo, Consolas, monospace"
  };

  function inkOn(hex) {
    var n = parseInt(hex.slice(1), 16);
    var r = (n >> 16) & 255, g = (n >> 8) & 255, b = n & 255;
    return (r * 299 + g * 587 + b * 114) / 1000 > 150 ? "#1a1f36" : "#ffffff";
  }

  function applyAppearance(a) {
    if (!a || typeof a !== "object") { return; }
    var root = document.documentElement;
    if (a.theme === "dark" || a.theme === "light") {
      root.setAttribute("data-theme", a.theme);
    }
    if (typeof a.accentColor === "string" && /^#[0-9a-fA-F]{6}$/.test(a.accentColor)) {
      root.style.setProperty("--accent", a.accentColor);
      root.style.setProperty("--accent-ink", inkOn(a.accentColor));
    }
    if (typeof a.borderRadius === "number" && a.borderRadius >= 0 && a.borderRadius <= 24) {
      root.style.setProperty("--radius", Math.round(a.borderRadius) + "px");
    }
    if (typeof a.fontFamily === "string" && Object.prototype.hasOwnProperty.call(fonts, a.fontFamily)) {
      root.style.setProperty("--font", fonts[a.fontFamily]);
    }
  }

  function remember(a) {
    try { sessionStorage.setItem(STORE, JSON.stringify(a)); } catch (e) { /* storage may be blocked */ }
  }

  try { applyAppearance(JSON.parse(sessionStorage.getItem(STORE) || "null")); } catch (e) { /* none kept */ }

  window.addEventListener("message", function (event) {
    if (!framed || event.source !== window.parent || event.origin !== parentOrigin) { return; }
    var msg = event.data;
    if (!msg || msg.source !== SOURCE || msg.type !== "init") { return; }
    applyAppearance(msg.appearance);
    remember(msg.appearance);
  });

  // Resize: the SDK sets the frame's height to the content's.
  var frame = document.getElementById("frame");
  var lastHeight = 0;
  function resize() {
    var h = Math.ceil(frame.getBoundingClientRect().height);
    if (h !== lastHeight) {
      lastHeight = h;
      post({ type: "resize", height: h });
    }
  }
  if (window.ResizeObserver) {
    new ResizeObserver(resize).observe(frame);
  }
  resize();

  // A page that carries its outcome (a receipt, a closed form) posts it.
  var preset = body.getAttribute("data-message");
  if (preset) {
    try { post(JSON.parse(preset)); } catch (e) { /* malformed: nothing to say */ }
  }

  var form = document.getElementById("pay-form");
  if (!form || form.getAttribute("data-embed") !== "true") { return; }
  post({ type: "ready" });

  var amountInput = document.getElementById("amount-input");
  var phone = document.getElementById("phone");
  var address = document.querySelectorAll("[data-address]");
  var button = document.getElementById("pay-button");

  function show(id, msg) {
    var el = document.getElementById(id + "-error");
    var input = document.getElementById(id === "amount" ? "amount-input" : id);
    if (el) { el.textContent = msg; }
    if (input) {
      if (msg) { input.setAttribute("aria-invalid", "true"); } else { input.removeAttribute("aria-invalid"); }
    }
  }

  // minorOf reads "12.5" as 1250 minor units of a 2-digit currency, with
  // string arithmetic only; null when it is not a plain amount.
  function minorOf(text, exponent) {
    var m = text.replace(/[\s,]/g, "").match(/^(\d{1,8})(?:\.(\d*))?$/);
    if (!m) { return null; }
    var frac = m[2] || "";
    if (frac.length > exponent) { return null; }
    while (frac.length < exponent) { frac += "0"; }
    return parseInt(m[1] + frac, 10);
  }

  function shown(minor, exponent) {
    var s = String(minor);
    if (exponent === 0) { return s; }
    while (s.length <= exponent) { s = "0" + s; }
    return s.slice(0, s.length - exponent) + "." + s.slice(s.length - exponent);
  }

  function checkAmount() {
    if (!amountInput) { return ""; }
    var exponent = parseInt(amountInput.getAttribute("data-exponent"), 10);
    var min = parseInt(amountInput.getAttribute("data-min"), 10);
    var max = parseInt(amountInput.getAttribute("data-max"), 10);
    var minor = minorOf(amountInput.value, exponent);
    if (minor === null || minor < min || minor > max) {
      return "Enter an amount from " + shown(min, exponent) + " to " + shown(max, exponent) + ".";
    }
    return "";
  }

  function checkExtra() {
    var errors = [];
    var amountMsg = checkAmount();
    show("amount", amountMsg);
    if (amountMsg) { errors.push("amount"); }
    if (phone) {
      var digits = phone.value.replace(/\D/g, "").length;
      var ok = /^\+?[0-9 ()\-.]+$/.test(phone.value.trim()) && digits >= 5 && digits <= 15;
      show("phone", ok ? "" : "Enter a phone number.");
      if (!ok) { errors.push("phone"); }
    }
    Array.prototype.forEach.call(address, function (input) {
      var field = input.getAttribute("data-address");
      var v = input.value.trim();
      var msg = "";
      if ((field === "line1" || field === "city") && !v) { msg = "Required."; }
      if (field === "country" && !/^[A-Za-z]{2}$/.test(v)) { msg = "Two letters, like US."; }
      if (document.getElementById(field + "-error")) { show(field, msg); }
      if (msg) { errors.push(field); }
    });
    return errors;
  }

  if (amountInput) {
    amountInput.addEventListener("input", function () {
      var exponent = parseInt(amountInput.getAttribute("data-exponent"), 10);
      var minor = minorOf(amountInput.value, exponent);
      var label = minor ? "Pay " + shown(minor, exponent) + " " + amountInput.getAttribute("data-currency") : "Pay";
      button.setAttribute("data-label", label);
      if (!button.disabled) { button.textContent = label; }
      if (amountInput.getAttribute("aria-invalid") === "true" && !checkAmount()) { show("amount", ""); }
    });
  }

  // Runs before pay.js's own submit handler: a bad extra field stops it.
  document.addEventListener("submit", function (ev) {
    if (ev.target !== form) { return; }
    var errors = checkExtra();
    if (errors.length) {
      ev.preventDefault();
      ev.stopPropagation();
      var first = document.getElementById(errors[0] === "amount" ? "amount-input" : errors[0]);
      if (first) { first.focus(); }
    }
  }, true);

  form.addEventListener("paylink:payload", function (ev) {
    var b = ev.detail;
    if (amountInput) {
      b.amount = minorOf(amountInput.value, parseInt(amountInput.getAttribute("data-exponent"), 10));
    }
    if (phone) { b.phone = phone.value.trim(); }
    if (address.length) {
      b.billing_address = {};
      Array.prototype.forEach.call(address, function (input) {
        b.billing_address[input.getAttribute("data-address")] = input.value.trim();
      });
    }
  });

  form.addEventListener("paylink:answer", function (ev) {
    var status = ev.detail.status, answer = ev.detail.body || {};
    var p = answer.payment;
    if (status === 200 && p && p.status === "succeeded") {
      ev.preventDefault();
      document.getElementById("form-card").hidden = true;
      document.getElementById("paid-text").textContent = "Payment " + p.id + " received. A receipt goes to " +
        (p.customer && p.customer.email ? p.customer.email : "your e-mail") + ".";
      document.getElementById("paid").hidden = false;
      post({ type: "success", payment: { id: p.id, status: p.status, amount: p.amount, currency: p.currency },
        redirect_url: answer.redirect_url || null });
      return;
    }
    var e = answer.error;
    if (e && (status === 400 || status === 402 || status === 422 || status === 429 || status >= 500)) {
      post({ type: "error", error: { code: e.code, message: e.message } });
    }
  });
})();
