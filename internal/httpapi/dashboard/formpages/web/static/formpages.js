// The Forms section's enhancement: the new-form and edit pages show only
// the amount fields of the pricing chosen (a fixed amount, or a minimum
// and a maximum). Without it every amount field shows and the server
// reads the ones the chosen pricing needs.
(function () {
  'use strict';

  function pricing() {
    var editor = document.getElementById('form-editor');
    if (!editor) { return; }
    var radios = editor.querySelectorAll('input[name="pricing"]');
    function show() {
      var chosen = editor.querySelector('input[name="pricing"]:checked');
      var mode = chosen ? chosen.value : 'fixed';
      editor.querySelectorAll('[data-pricing]').forEach(function (el) {
        el.hidden = el.getAttribute('data-pricing') !== mode;
      });
    }
    radios.forEach(function (r) { r.addEventListener('change', show); });
    show();
  }

  document.addEventListener('DOMContentLoaded', pricing);
})();
