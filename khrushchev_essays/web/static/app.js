/* Khrushchev essay practice: progressive enhancements only. Every page works without this file.
 * - a live word count under the essay box
 * - the draft kept in localStorage while writing, restored on return, cleared once submitted
 * - the submit button shows progress and cannot be pressed twice
 * Served from /static under a CSP that forbids inline scripts, so nothing here is inline. */
(function () {
  "use strict";

  var SAVE_DELAY_MS = 600;

  function storage() {
    // Private browsing or a full disk can make localStorage throw: drafts are a bonus, not a need.
    try {
      var probe = "khrushchev-essays:probe";
      window.localStorage.setItem(probe, "1");
      window.localStorage.removeItem(probe);
      return window.localStorage;
    } catch (e) {
      return null;
    }
  }

  function countWords(text) {
    var words = text.trim().split(/\s+/);
    var n = 0;
    for (var i = 0; i < words.length; i++) {
      if (/[A-Za-z0-9\u00C0-\uFFFF]/.test(words[i])) n++;
    }
    return n;
  }

  function formatNumber(n) {
    return n.toLocaleString("en-GB");
  }

  function timeNow() {
    return new Date().toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
  }

  function setupWordCount(textarea) {
    var out = document.getElementById("word-count");
    if (!out) return;
    var min = parseInt(textarea.getAttribute("data-min-words"), 10) || 0;
    var max = parseInt(textarea.getAttribute("data-max-words"), 10) || 6000;
    function update() {
      var n = countWords(textarea.value);
      var msg = formatNumber(n) + (n === 1 ? " word" : " words");
      out.classList.remove("over", "short");
      if (n > max) {
        msg += ": over the " + formatNumber(max) + "-word limit, so it cannot be marked";
        out.classList.add("over");
      } else if (n > 0 && n < min) {
        msg += " (aim for " + formatNumber(min) + " or more)";
        out.classList.add("short");
      }
      out.textContent = msg;
    }
    out.hidden = false;
    // aria-live would read every keystroke: announce only after a pause in typing.
    out.setAttribute("aria-live", "off");
    var timer = null;
    textarea.addEventListener("input", function () {
      update();
      window.clearTimeout(timer);
      out.setAttribute("aria-live", "off");
      timer = window.setTimeout(function () { out.setAttribute("aria-live", "polite"); }, 1500);
    });
    update();
  }

  function setupDraft(textarea, store) {
    var key = textarea.getAttribute("data-draft-key");
    var status = document.getElementById("draft-status");
    if (!key || !store || !status) return;
    var original = textarea.value;

    function show(message) {
      status.hidden = false;
      status.textContent = "";
      status.appendChild(document.createTextNode(message));
    }

    var saved = null;
    try { saved = JSON.parse(store.getItem(key) || "null"); } catch (e) { saved = null; }
    // A draft only replaces the box when the server did not just send text back (a form error
    // re-shows exactly what was posted, which is newer than any draft).
    var serverSentText = textarea.value.trim() !== "" && !textarea.hasAttribute("data-prefilled");
    if (saved && typeof saved.text === "string" && saved.text.trim() && saved.text !== textarea.value && !serverSentText) {
      textarea.value = saved.text;
      textarea.dispatchEvent(new Event("input"));
      show("Restored your unsaved draft from " + (saved.savedAt || "earlier") + ". ");
      var discard = document.createElement("button");
      discard.type = "button";
      discard.className = "link-button";
      discard.textContent = original.trim() ? "Go back to the submitted essay" : "Clear the draft";
      discard.addEventListener("click", function () {
        textarea.value = original;
        store.removeItem(key);
        textarea.dispatchEvent(new Event("input"));
        show("Draft cleared.");
        textarea.focus();
      });
      status.appendChild(discard);
    }

    var timer = null;
    textarea.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        try {
          if (textarea.value.trim() && textarea.value !== original) {
            var at = timeNow();
            store.setItem(key, JSON.stringify({ text: textarea.value, savedAt: at }));
            show("Draft saved in this browser at " + at + ".");
          } else {
            store.removeItem(key);
          }
        } catch (e) {
          show("Your browser would not keep a draft: copy your essay somewhere safe before leaving.");
        }
      }, SAVE_DELAY_MS);
    });
  }

  function setupSubmit(form) {
    var button = form.querySelector("[type=submit]");
    if (!button) return;
    var label = button.value;
    // Coming back with the Back button restores the page as it was left: make it usable again.
    window.addEventListener("pageshow", function () {
      button.disabled = false;
      button.value = label;
    });
    form.addEventListener("submit", function () {
      // Disable after the browser has collected the form data, so the post still goes through.
      window.setTimeout(function () {
        button.disabled = true;
        button.value = "Scoring your essay…";
      }, 0);
    });
  }

  function clearSubmittedDraft(store) {
    var marker = document.querySelector("[data-clear-draft]");
    if (marker && store) store.removeItem(marker.getAttribute("data-clear-draft"));
  }

  function focusErrors() {
    var summary = document.getElementById("form-errors");
    if (summary) summary.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var store = storage();
    clearSubmittedDraft(store);
    var textarea = document.querySelector("textarea[data-draft-key]");
    if (textarea) {
      setupWordCount(textarea);
      setupDraft(textarea, store);
      setupSubmit(textarea.form);
    }
    focusErrors();
  });
})();
