// The dashboard's one script of our own: small progressive enhancements. Every page works without it
// (forms post, links navigate); htmx adds partial updates and live refreshes where a page asks for them.
(function () {
  'use strict';
  // A select marked data-autosubmit submits its form when changed (the language and school switches).
  document.addEventListener('change', function (event) {
    var target = event.target;
    if (target && target.matches && target.matches('select[data-autosubmit]') && target.form) target.form.requestSubmit();
  });
  // A button with data-confirm asks before its form is sent.
  document.addEventListener('submit', function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var message = (submitter && submitter.getAttribute('data-confirm')) || (form && form.getAttribute && form.getAttribute('data-confirm'));
    if (message && !window.confirm(message)) event.preventDefault();
  }, true);
  // htmx: a failed request shows the server's message instead of failing silently.
  document.addEventListener('htmx:responseError', function (event) {
    var detail = event.detail;
    var box = document.getElementById('htmx-error');
    if (!box) {
      box = document.createElement('p');
      box.id = 'htmx-error';
      box.className = 'error';
      box.setAttribute('role', 'alert');
      var main = document.getElementById('main');
      if (main) main.insertBefore(box, main.firstChild);
    }
    var text = detail && detail.xhr ? detail.xhr.responseText : '';
    var parsed = new DOMParser().parseFromString(text || '', 'text/html');
    var message = parsed.querySelector('[data-error-message]');
    box.textContent = message ? message.textContent : (detail && detail.xhr ? detail.xhr.status + ' ' + detail.xhr.statusText : 'error');
  });
})();
(function () {
  'use strict';
  // On a phone's width the menu starts folded.
  if (window.matchMedia && window.matchMedia('(max-width: 760px)').matches) {
    document.querySelectorAll('details.menu-toggle').forEach(function (d) { d.open = false; });
  }
})();
