/* The template editor: each platform's length limit counted as you type (UTF-8 bytes for Instagram).
   The count is of the text as written; the preview shows the length once the variables are filled. */
(function () {
  "use strict";

  var encoder = new TextEncoder();

  function measure(unit, text) {
    return unit === "bytes" ? encoder.encode(text).length : Array.from(text).length;
  }

  function setUp(counter) {
    var limits = JSON.parse(counter.dataset.limits);
    var labels = JSON.parse(counter.dataset.labels);
    var source = document.getElementById(counter.dataset.source);
    var boxes = document.querySelectorAll('input[name="platforms"]');
    if (!source) { return; }

    function update() {
      var chosen = Array.prototype.filter.call(boxes, function (box) { return box.checked; })
        .map(function (box) { return box.value; });
      if (chosen.length === 0) { chosen = Object.keys(limits); }
      var list = document.createElement("ul");
      chosen.forEach(function (platform) {
        var unit = limits[platform][0], limit = limits[platform][1];
        var length = measure(unit, source.value);
        var item = document.createElement("li");
        item.className = length > limit ? "over" : "";
        item.textContent = labels[platform] + ": " + length + " of " + limit + " " + unit +
          (length > limit ? " (too long)" : "");
        list.appendChild(item);
      });
      counter.replaceChildren(list);
    }

    source.addEventListener("input", update);
    Array.prototype.forEach.call(boxes, function (box) { box.addEventListener("change", update); });
    update();
  }

  document.querySelectorAll("[data-limits]").forEach(setUp);
}());
