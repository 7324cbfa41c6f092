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

  // A form that undoes something hard to take back asks first (data-confirm="the question"). With
  // data-confirm-count="name", "{count}" in the question is how many boxes of that name are ticked
  // for the form (inside it or pointing at it with form="..."); none ticked: data-confirm-none says so.
  function ticked(form, name) {
    var boxes = document.querySelectorAll('input[type="checkbox"][name="' + name + '"]:checked');
    return Array.prototype.filter.call(boxes, function (box) { return box.form === form; }).length;
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.dataset || !form.dataset.confirm) { return; }
    var question = form.dataset.confirm;
    if (form.dataset.confirmCount) {
      var count = ticked(form, form.dataset.confirmCount);
      if (!count && form.dataset.confirmNone) {
        window.alert(form.dataset.confirmNone);
        event.preventDefault();
        return;
      }
      question = question.replace("{count}", String(count));
    }
    if (!window.confirm(question)) { event.preventDefault(); }
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
