/* Paper entry grid: auto-advance after one digit, live subscale preview.
   The page works without this file; the server scores what is saved. */
(function () {
  "use strict";
  var inputs = Array.prototype.slice.call(document.querySelectorAll(".sk-item-input"));
  if (!inputs.length) { return; }
  var keyElement = document.getElementById("sk-preview-key");
  var key = keyElement ? JSON.parse(keyElement.textContent) : null;

  function valueOf(item) {
    var input = document.querySelector('.sk-item-input[data-item="' + item + '"]');
    if (!input || !/^[0-9]+$/.test(input.value)) { return null; }
    var n = parseInt(input.value, 10);
    return n >= key.min && n <= key.max ? n : null;
  }

  function preview() {
    if (!key) { return; }
    key.subscales.forEach(function (s) {
      var answered = s.items.map(valueOf).filter(function (v) { return v !== null; });
      var cell = document.querySelector('#sk-preview tr[data-subscale="' + s.code + '"] td:last-child');
      if (!cell) { return; }
      if (!answered.length) { cell.textContent = "—"; return; }
      var sum = answered.reduce(function (a, b) { return a + b; }, 0);
      var score = s.aggregation === "sum" ? sum * s.items.length / answered.length : sum / answered.length;
      cell.textContent = score.toFixed(2) + (answered.length < s.items.length ? " (" + answered.length + "/" + s.items.length + ")" : "");
    });
  }

  inputs.forEach(function (input, index) {
    input.addEventListener("input", function () {
      var max = parseInt(input.getAttribute("maxlength") || "1", 10);
      var ok = /^[0-9]+$/.test(input.value) && (!key || (+input.value >= key.min && +input.value <= key.max));
      input.classList.toggle("is-invalid", input.value !== "" && !ok);
      if (ok && input.value.length >= max && index + 1 < inputs.length) {
        inputs[index + 1].focus();
        inputs[index + 1].select();
      }
      preview();
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Backspace" && input.value === "" && index > 0) {
        inputs[index - 1].focus();
      }
    });
  });
  preview();
})();
