// The merchant's own script. 3. Mount the form, and listen to what it says.
// (No inline script: this file is served by the merchant's site.)
(function () {
  "use strict";
  var el = document.getElementById("pay");
  var events = document.getElementById("events");

  function log(type, text) {
    var li = document.createElement("li");
    li.setAttribute("data-event", type);
    li.textContent = type + (text ? ": " + text : "");
    events.appendChild(li);
  }

  Paylink.mount(el, {
    form: el.getAttribute("data-form"),
    appearance: { accentColor: "#0f766e", borderRadius: 12, fontFamily: "system" },
    onReady: function () {
      document.body.setAttribute("data-paylink", "ready");
      log("ready");
    },
    onSuccess: function (payment) {
      log("success", payment.id + " " + payment.status + " " + payment.amount + " " + payment.currency);
      var result = document.getElementById("result");
      result.setAttribute("data-payment", payment.id);
      document.getElementById("result-text").textContent =
        "Payment " + payment.id + " succeeded. Your order is on its way.";
      result.hidden = false;
    },
    onError: function (error) {
      log("error", error.code + ": " + error.message);
    }
  });
})();
