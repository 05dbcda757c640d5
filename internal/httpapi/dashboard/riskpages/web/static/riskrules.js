// The rules page's live backtest: as the merchant types an expression,
// ask the dashboard how many of the last 30 days' payments it would have
// matched (or the checker's error) and show it under the field.
(function () {
  'use strict';

  function text(el, s) { el.textContent = s; }

  document.addEventListener('DOMContentLoaded', function () {
    var expr = document.getElementById('expression');
    var action = document.getElementById('action');
    var out = document.getElementById('backtest');
    var errBox = document.getElementById('expression-error');
    if (!expr || !action || !out || !errBox) { return; }
    var timer = null;
    var seq = 0;

    function show(res) {
      out.textContent = '';
      errBox.textContent = '';
      if (res.error) {
        var p = document.createElement('p');
        p.className = 'field-error';
        p.id = 'expression-live-error';
        text(p, res.error.message);
        errBox.appendChild(p);
        return;
      }
      out.appendChild(document.createTextNode('Would have matched '));
      var n = document.createElement('strong');
      n.id = 'backtest-matched';
      text(n, String(res.matched));
      out.appendChild(n);
      out.appendChild(document.createTextNode(' of ' + res.of + ' payments in the last 30 days'));
      var ids = (res.payments || []).slice(0, 5);
      ids.forEach(function (id, i) {
        out.appendChild(document.createTextNode(i === 0 ? ': ' : ', '));
        var a = document.createElement('a');
        a.href = '/dashboard/payments/' + encodeURIComponent(id);
        var code = document.createElement('code');
        code.className = 'small';
        text(code, id);
        a.appendChild(code);
        out.appendChild(a);
      });
      out.appendChild(document.createTextNode('.'));
    }

    function run() {
      var q = expr.value.trim();
      if (q === '') { out.textContent = ''; errBox.textContent = ''; return; }
      var mine = ++seq;
      var url = '/dashboard/risk/rules/test?action=' + encodeURIComponent(action.value) +
        '&expression=' + encodeURIComponent(q);
      fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (r) { return r.json(); })
        .then(function (res) { if (mine === seq) { show(res); } })
        .catch(function () { if (mine === seq) { text(out, 'The test could not run; use the Test button.'); } });
    }

    function later() {
      clearTimeout(timer);
      timer = setTimeout(run, 350);
    }
    expr.addEventListener('input', later);
    action.addEventListener('change', later);
  });
})();
