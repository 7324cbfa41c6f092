/* Every page: tell the server the reader's time zone (the `tz` cookie, read by
   web/middleware.py), ask before a form marked data-confirm is sent, and keep keyboard focus
   where it was after an htmx swap. */
(function () {
  "use strict";
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("tz=" + zone) === -1) {
      document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (error) { /* an old browser: the server's TIME_ZONE applies */ }

  // A form that undoes something hard to take back asks first (data-confirm="the question").
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  }, true);

  var focusedId = null;
  document.addEventListener("htmx:beforeSwap", function () {
    var active = document.activeElement;
    focusedId = active && active.id ? active.id : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!focusedId) { return; }
    var again = document.getElementById(focusedId);
    if (again && document.activeElement !== again) { again.focus({ preventScroll: true }); }
    focusedId = null;
  });
})();
