// Paylink's simulated issuer challenge: the shopper approves or fails,
// the answer is POSTed as JSON to this page's URL, then the receipt shows.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("button[data-outcome]");
  var error = document.getElementById("challenge-error");
  var key = null;
  var outcomeSent = null;

  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }

  function busy(on) {
    Array.prototype.forEach.call(buttons, function (b) { b.disabled = on; });
  }

  function send(outcome) {
    if (outcome !== outcomeSent) { key = newKey(); outcomeSent = outcome; }
    busy(true);
    error.textContent = "";
    fetch(location.pathname + location.search, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Idempotency-Key": key },
      body: JSON.stringify({ outcome: outcome })
    }).then(function (res) {
      return res.json().then(function (body) {
        if (res.status === 200 && body.receipt_url) {
          location.assign(body.receipt_url);
          return;
        }
        if (res.status === 409 && body.error && body.error.code === "idempotency_key_in_use") {
          setTimeout(function () { send(outcome); }, 1000);
          return;
        }
        if (res.status === 403 || res.status === 404 || res.status === 410) {
          location.reload();
          return;
        }
        busy(false);
        error.textContent = (body.error && body.error.message) || "Something went wrong. Try again.";
      });
    }).catch(function () {
      busy(false);
      error.textContent = "We could not reach Paylink. Check your connection and try again.";
    });
  }

  Array.prototype.forEach.call(buttons, function (b) {
    b.addEventListener("click", function () { send(b.getAttribute("data-outcome")); });
  });
})();
