// Paylink receipt: after a successful payment, show the receipt for a
// moment, then return the shopper to the merchant's success_url.
(function () {
  "use strict";
  var receipt = document.getElementById("receipt");
  if (!receipt) { return; }
  var target = receipt.getAttribute("data-redirect");
  if (receipt.getAttribute("data-status") !== "succeeded" || !target) { return; }
  var seconds = 3;
  var note = document.getElementById("redirect-note");
  function tick() {
    if (seconds <= 0) {
      location.assign(target);
      return;
    }
    note.textContent = "Returning you to the merchant in " + seconds + " second" + (seconds === 1 ? "" : "s") + "…";
    seconds--;
    setTimeout(tick, 1000);
  }
  tick();
})();
