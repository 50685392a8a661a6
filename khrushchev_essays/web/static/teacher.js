/* The teacher pages: progressive enhancements only. Every page works without this file.
 * - review page: keys j/k (next/previous essay), a (agree and next), s (save and next), never
 *   while typing in a field or with a modifier held; the key legend is shown only when they work
 * - review page: the final mark follows the criterion marks through the scheme's curve as they
 *   are typed (unless "I set this mark myself" is ticked), and a disagreement is said at once;
 *   the server checks the same thing on saving
 * - dashboard: a "select all" box for the bulk agree
 * - dashboard and analytics: the filters fold behind their summary on a phone
 * - class pack: the Print button (the browser's own print works without it)
 * Served from /static under a CSP that forbids inline scripts, so nothing here is inline. */
(function () {
  "use strict";

  function typing(el) {
    if (!el || !el.tagName) return false;
    var tag = el.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || el.isContentEditable;
  }

  function keys() {
    var legend = document.getElementById("key-legend");
    if (!legend) return;
    legend.hidden = false;
    var actions = {
      j: function () { var a = document.getElementById("next-essay"); if (a) window.location.href = a.href; },
      k: function () { var a = document.getElementById("prev-essay"); if (a) window.location.href = a.href; },
      a: function () { var b = document.getElementById("agree-next"); if (b) b.click(); },
      s: function () { var b = document.getElementById("save-next"); if (b) b.click(); }
    };
    document.addEventListener("keydown", function (e) {
      if (e.defaultPrevented || e.repeat || e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
      var act = actions[e.key];
      if (!act) return;
      e.preventDefault();
      act();
    });
  }

  // Python's round(): halves go to the even neighbour, so the page and the server agree.
  function roundHalfEven(x) {
    var f = Math.floor(x), d = x - f;
    if (Math.abs(d - 0.5) < 1e-9) return f % 2 === 0 ? f : f + 1;
    return Math.round(x);
  }

  function followMark() {
    var form = document.getElementById("review-form");
    if (!form) return;
    var top = parseFloat(form.getAttribute("data-curve-max"));
    var power = parseFloat(form.getAttribute("data-curve-power"));
    var mark = form.querySelector("input[name=mark]");
    var own = form.querySelector("input[name=own_mark]");
    var live = document.getElementById("mark-live");
    var crits = form.querySelectorAll("input.crit-input");
    if (!mark || !own || !live || !top) return;
    var startCrits = Array.prototype.map.call(crits, function (i) { return i.value; }).join("|");
    var startMark = mark.value;

    function curved() {
      var sum = 0;
      for (var i = 0; i < crits.length; i++) {
        var v = parseFloat(crits[i].value);
        if (isNaN(v)) return null;
        sum += v;
      }
      sum = Math.max(0, Math.min(sum, top));
      return roundHalfEven(top * Math.pow(sum / top, power));
    }
    function critsChanged() {
      return Array.prototype.map.call(crits, function (i) { return i.value; }).join("|") !== startCrits;
    }
    function say(text, warn) {
      live.textContent = text;
      live.classList.toggle("warn", !!warn);
    }
    function check() {
      var c = curved();
      if (c === null || own.checked || !critsChanged()) { say("", false); return; }
      if (mark.value !== startMark && String(c) !== mark.value.trim()) {
        say("Your criterion marks come to " + c + " after the curve, but the final mark says " + mark.value +
            ": change one, or tick the box to keep " + mark.value + ".", true);
      } else {
        say("The final mark follows your criterion marks: " + c + ".", false);
      }
    }
    for (var i = 0; i < crits.length; i++) {
      crits[i].addEventListener("input", function () {
        var c = curved();
        if (c !== null && !own.checked) { mark.value = String(c); startMark = mark.value; }
        check();
      });
    }
    mark.addEventListener("input", check);
    own.addEventListener("change", check);
  }

  function selectAll() {
    var all = document.getElementById("pick-all");
    if (!all) return;
    all.hidden = false;
    var boxes = document.querySelectorAll("input.pick");
    all.addEventListener("change", function () {
      for (var i = 0; i < boxes.length; i++) boxes[i].checked = all.checked;
    });
  }

  function printButtons() {
    var buttons = document.querySelectorAll("[data-print]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].addEventListener("click", function () { window.print(); });
    }
  }

  function foldFilters() {
    if (!window.matchMedia || !window.matchMedia("(max-width: 600px)").matches) return;
    var folds = document.querySelectorAll("details[data-fold-small]");
    for (var i = 0; i < folds.length; i++) folds[i].open = false;
  }

  foldFilters();
  keys();
  followMark();
  selectAll();
  printButtons();
})();
