/* Progressive enhancement of the forecast form. Without this script the form still works: the
   server validates everything and shows its message next to the inputs. */
(function () {
  "use strict";

  function formatPercent(x) {
    return String(Math.round(x * 10) / 10);
  }

  function initBinary(form) {
    var number = form.querySelector("#probability");
    var range = form.querySelector("#probability-range");
    if (!number || !range) return;
    range.hidden = false;
    // The same forms the server reads (web/forms.py parse_probability): 75, 75%, 3:1, 3 to 1, 1 in 4.
    var asPercent = function (text) {
      var t = String(text).trim(), m;
      if ((m = /^(\d+(?:\.\d+)?)\s*(?::|to)\s*(\d+(?:\.\d+)?)$/i.exec(t))) {
        var a = parseFloat(m[1]), b = parseFloat(m[2]);
        return a + b > 0 ? (100 * a) / (a + b) : NaN;
      }
      if ((m = /^(\d+(?:\.\d+)?)\s+in\s+(\d+(?:\.\d+)?)$/i.exec(t))) {
        var k = parseFloat(m[1]), n = parseFloat(m[2]);
        return n > 0 ? (100 * k) / n : NaN;
      }
      return /^\d+(?:\.\d+)?\s*%?$/.test(t) ? parseFloat(t) : NaN;
    };
    var syncRange = function () {
      var v = asPercent(number.value);
      if (isFinite(v)) range.value = String(Math.min(99.9, Math.max(0.1, v)));
    };
    syncRange();
    range.addEventListener("input", function () {
      number.value = range.value;
    });
    number.addEventListener("input", syncRange);
  }

  function initMultipleChoice(form) {
    var inputs = Array.prototype.slice.call(form.querySelectorAll(".mc-input"));
    var box = form.querySelector("#mc-sum");
    var total = form.querySelector("#mc-total");
    var error = form.querySelector("#mc-error");
    if (!inputs.length || !box || !total || !error) return;
    box.hidden = false;
    var remaining = document.createElement("span");
    remaining.className = "mc-remaining";
    box.appendChild(remaining);

    var sum = function () {
      return inputs.reduce(function (acc, input) {
        var v = parseFloat(input.value);
        return isFinite(v) ? acc + v : acc;
      }, 0);
    };
    // The service accepts a sum within 1e-6 of 1, that is 1e-4 percentage points.
    var isComplete = function (s) { return Math.abs(s - 100) <= 1e-4; };
    var markInvalid = function (invalid) {
      inputs.forEach(function (input) {
        if (invalid) input.setAttribute("aria-invalid", "true");
        else input.removeAttribute("aria-invalid");
      });
      form.querySelector(".mc-fieldset").classList.toggle("has-error", invalid);
    };
    var update = function () {
      var s = sum();
      total.textContent = formatPercent(s);
      box.classList.toggle("is-complete", isComplete(s));
      if (isComplete(s)) remaining.textContent = " (complete)";
      else if (s < 100) remaining.textContent = " (" + formatPercent(100 - s) + "% left to assign)";
      else remaining.textContent = " (" + formatPercent(s - 100) + "% too much)";
      if (isComplete(s) && !error.hidden && error.dataset.source === "sum") {
        error.hidden = true;
        error.textContent = "";
        markInvalid(false);
      }
    };
    inputs.forEach(function (input) { input.addEventListener("input", update); });
    form.addEventListener("submit", function (event) {
      var s = sum();
      if (isComplete(s)) return;
      event.preventDefault();
      error.textContent = "The probabilities must add up to 100%; they add up to " + formatPercent(s) + "%.";
      error.dataset.source = "sum";
      error.hidden = false;
      markInvalid(true);
      inputs[0].focus();
    });
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("forecast-form");
    if (!form) return;
    if (form.dataset.type === "binary") initBinary(form);
    else initMultipleChoice(form);
  });
})();
