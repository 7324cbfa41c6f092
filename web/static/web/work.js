/* The work pages' small behaviours, no library: copy a text to the clipboard. */
(function () {
  "use strict";

  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function done(button, label) {
    var before = button.dataset.label || button.textContent;
    button.dataset.label = before;
    button.textContent = label;
    window.setTimeout(function () { button.textContent = before; }, 2000);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) { return; }
    var source = document.getElementById(button.dataset.copy);
    if (!source) { return; }
    var text = source.value !== undefined ? source.value : source.textContent;
    var fallback = function () {
      selectText(source);
      done(button, "Selected: press Ctrl+C");
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(button, "Copied"); }, fallback);
    } else {
      fallback();
    }
  });
}());
