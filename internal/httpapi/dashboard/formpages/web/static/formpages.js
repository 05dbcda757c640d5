// The Forms section's enhancements: the new-form and edit pages show only
// the amount fields of the pricing chosen (a fixed amount, or a minimum
// and a maximum; without the script every amount field shows and the
// server reads the ones the chosen pricing needs), and a form's preview
// frame takes the height of the form it shows.
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

  // The preview frame (this origin's page) grows to the form's height, so
  // the whole form shows without a scroll bar inside the page.
  function preview() {
    var frame = document.getElementById('form-preview');
    if (!frame) { return; }
    function fit() {
      // #frame wraps the embed page's content: its height is what the
      // SDK sizes a shopper's frame to.
      var doc = frame.contentDocument;
      var content = doc && doc.getElementById('frame');
      if (content) {
        frame.style.height = Math.ceil(content.getBoundingClientRect().height) + 'px';
      }
    }
    frame.addEventListener('load', fit);
    window.addEventListener('resize', fit);
    fit();
  }

  document.addEventListener('DOMContentLoaded', function () {
    pricing();
    preview();
  });
})();
