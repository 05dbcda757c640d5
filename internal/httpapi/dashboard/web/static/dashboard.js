// The merchant dashboard's small enhancements. Every page works without
// them: forms are plain HTML forms, each with its own Idempotency-Key.
(function () {
  'use strict';

  // Times are rendered in UTC; show them in the browser's time zone. An
  // age ("5 min", data-age) stays as it is, with the local time as its
  // title.
  function localTimes() {
    var fmt;
    try {
      fmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
    } catch (e) {
      return;
    }
    document.querySelectorAll('time[datetime]').forEach(function (el) {
      var d = new Date(el.getAttribute('datetime'));
      if (isNaN(d.getTime())) {
        return;
      }
      if (el.hasAttribute('data-age')) {
        el.title = fmt.format(d);
        return;
      }
      el.title = el.textContent;
      el.textContent = fmt.format(d);
    });
  }

  // Copy buttons: data-copy names the input whose value is copied.
  function copyButtons() {
    document.querySelectorAll('[data-copy]').forEach(function (btn) {
      btn.addEventListener('click', function () {
        var id = btn.getAttribute('data-copy');
        var input = document.getElementById(id);
        var note = document.querySelector('[data-copied-for="' + id + '"]');
        var done = function () { if (note) { note.textContent = 'Copied.'; } };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(input.value).then(done, function () { input.select(); });
        } else {
          input.select();
          try { document.execCommand('copy'); done(); } catch (e) { /* selected for the user */ }
        }
      });
    });
  }

  // Forms with data-confirm ask before they submit; every form disables
  // its submit button once sent (the key makes a second send act once
  // anyway).
  function forms() {
    document.querySelectorAll('form').forEach(function (form) {
      form.addEventListener('submit', function (ev) {
        var q = form.getAttribute('data-confirm');
        if (q && !window.confirm(q)) {
          ev.preventDefault();
          return;
        }
        if (form.method.toLowerCase() === 'post') {
          form.querySelectorAll('button[type="submit"]').forEach(function (b) {
            setTimeout(function () { b.disabled = true; }, 0);
          });
        }
      });
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    localTimes();
    copyButtons();
    forms();
  });
})();
