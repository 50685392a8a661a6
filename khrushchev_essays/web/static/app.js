/* Khrushchev essay practice: progressive enhancements only. Every page works without this file.
 * - a live word count under the essay box
 * - the draft kept in localStorage while writing, restored on return, cleared once submitted
 * - the submit button shows progress and cannot be pressed twice
 * - this device's list of recent feedback pages (localStorage only, never sent), shown on the home page
 * - a "copy link" button on each feedback page, announced in a live region
 * - a tick box per factor in the essay's key, to hide or show that factor's shading
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


  var RECENT_KEY = "khrushchev-essays:recent";
  var RECENT_MAX = 20;

  function readRecent(store) {
    var list = null;
    try { list = JSON.parse(store.getItem(RECENT_KEY) || "[]"); } catch (e) { list = []; }
    if (!Array.isArray(list)) return [];
    // Only entries this page wrote, with a link on this site: never a link elsewhere.
    return list.filter(function (item) {
      return item && typeof item.url === "string" && /^\/(?![\/\\])(?:[^?#\\]*\/)?feedback\/[A-Za-z0-9_-]+$/.test(item.url);
    });
  }

  function rememberFeedback(store) {
    var holder = document.querySelector("[data-recent]");
    if (!holder || !store) return;
    var entry;
    try { entry = JSON.parse(holder.getAttribute("data-recent")); } catch (e) { return; }
    if (!entry || typeof entry.url !== "string") return;
    entry.seen = new Date().toISOString();
    var list = readRecent(store).filter(function (item) { return item.url !== entry.url; });
    list.unshift(entry);
    try { store.setItem(RECENT_KEY, JSON.stringify(list.slice(0, RECENT_MAX))); } catch (e) { /* full: not needed */ }
  }

  function text(tag, className, content) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    el.textContent = content;
    return el;
  }

  function showRecent(store) {
    var section = document.getElementById("recent");
    var out = document.getElementById("recent-list");
    if (!section || !out || !store) return;
    var list = readRecent(store);
    out.textContent = "";
    if (!list.length) { section.hidden = true; return; }
    list.forEach(function (item) {
      var li = document.createElement("li");
      var link = text("a", "recent-title", String(item.title || "Feedback") + (item.attempt > 1 ? ", attempt " + item.attempt : ""));
      link.href = item.url;
      li.appendChild(link);
      if (item.question) li.appendChild(text("span", "recent-question", String(item.question)));
      var meta = [];
      meta.push(item.mark ? "Mark " + item.mark : "Mark not released yet");
      if (item.date) meta.push("sent " + item.date);
      li.appendChild(text("span", "recent-meta muted", meta.join(" · ")));
      out.appendChild(li);
    });
    section.hidden = false;
    var clear = document.getElementById("recent-clear");
    if (clear) {
      clear.onclick = function () {
        store.removeItem(RECENT_KEY);
        showRecent(store);
      };
    }
  }

  function copyText(value) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(value);
    }
    return new Promise(function (resolve, reject) {
      // Older browsers and plain-HTTP sites: copy from a hidden text box.
      var box = document.createElement("textarea");
      box.value = value;
      box.setAttribute("readonly", "");
      box.style.position = "fixed";
      box.style.opacity = "0";
      document.body.appendChild(box);
      box.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(box);
      if (ok) { resolve(); } else { reject(new Error("copy refused")); }
    });
  }

  function setupCopyLink() {
    var button = document.getElementById("copy-link");
    var status = document.getElementById("copy-status");
    if (!button || !status) return;
    button.parentNode.hidden = false;
    button.addEventListener("click", function () {
      var url = window.location.href.split("#")[0];
      status.textContent = "";
      copyText(url).then(function () {
        status.textContent = "Link copied";
      }, function () {
        status.textContent = "Your browser would not copy it: copy the address from the address bar instead.";
      });
    });
  }

  function setupFactorToggles() {
    var essay = document.querySelector(".essay-text");
    var items = document.querySelectorAll(".legend-factor[data-factor]");
    if (!essay || !items.length) return;
    var off = {};
    function paint() {
      var marks = essay.querySelectorAll("mark[data-factors]");
      for (var i = 0; i < marks.length; i++) {
        var el = marks[i];
        var factors = el.getAttribute("data-factors").split(" ").filter(function (n) { return n && !off[n]; });
        el.className = el.className.replace(/\bf\d+\b|\bhl-overlap\b|\bhl-off\b/g, "").replace(/\s+/g, " ").trim();
        if (factors.length) {
          el.classList.add("f" + ((parseInt(factors[0], 10) - 1) % 10 + 1));
          if (factors.length > 1) el.classList.add("hl-overlap");
        } else if (el.getAttribute("data-factors")) {
          el.classList.add("hl-off");
        }
      }
      var tags = essay.querySelectorAll(".tag[data-factor]");
      for (var j = 0; j < tags.length; j++) tags[j].hidden = !!off[tags[j].getAttribute("data-factor")];
    }
    for (var k = 0; k < items.length; k++) {
      (function (li) {
        var n = li.getAttribute("data-factor");
        var box = document.createElement("input");
        box.type = "checkbox";
        box.checked = true;
        box.className = "factor-toggle";
        box.id = "show-factor-" + n;
        var name = li.querySelector(".legend-name");
        box.setAttribute("aria-label", "Shade " + (name ? name.textContent : "factor " + n) + " in the essay");
        box.addEventListener("change", function () {
          off[n] = !box.checked;
          paint();
        });
        li.insertBefore(box, li.firstChild);
      })(items[k]);
    }
    var hint = document.querySelector(".legend-toggle-hint");
    if (hint) hint.hidden = false;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var store = storage();
    clearSubmittedDraft(store);
    rememberFeedback(store);
    showRecent(store);
    setupCopyLink();
    setupFactorToggles();
    var textarea = document.querySelector("textarea[data-draft-key]");
    if (textarea) {
      setupWordCount(textarea);
      setupDraft(textarea, store);
      setupSubmit(textarea.form);
    }
    focusErrors();
  });
})();
