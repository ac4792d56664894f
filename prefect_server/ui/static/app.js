// prefect-server UI: pages are complete without this script; it only keeps the live
// parts of a page fresh and saves a click or two. No libraries.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Filter forms apply as soon as a choice changes. A closed <select> fires "change" on
  // every arrow key, so a keyboard user could never get past the next option: a choice
  // made by keys applies on Enter or when the focus leaves the list instead.
  function autosubmitForm(element) {
    return element.closest && element.closest("form[data-autosubmit]");
  }
  var NAVIGATION_KEYS = /^(Arrow|Page|Home$|End$)|^[^ ]$/;
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (target.tagName !== "SELECT" || !autosubmitForm(target)) return;
    if (event.key === "Enter" && target.hasAttribute("data-keyed")) {
      event.preventDefault();
      autosubmitForm(target).submit();
    } else if (NAVIGATION_KEYS.test(event.key) && !event.altKey) {
      target.setAttribute("data-keyed", "");
    }
  });
  document.addEventListener("change", function (event) {
    var target = event.target;
    var form = autosubmitForm(target);
    if (!form || target.type === "search" || target.type === "text") return;
    if (target.tagName === "SELECT" && target.hasAttribute("data-keyed")) {
      target.setAttribute("data-changed", "");
      return;
    }
    form.submit();
  });
  document.addEventListener("pointerdown", function (event) {
    if (event.target.tagName === "SELECT") event.target.removeAttribute("data-keyed");
  });
  document.addEventListener("focusout", function (event) {
    var target = event.target;
    if (target.tagName === "SELECT" && target.hasAttribute("data-changed")) autosubmitForm(target).submit();
  });

  // Actions that cannot be undone ask first.
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // Live regions: <section data-live="live_x" data-every="5"> is re-fetched as the
  // page's fragment ?_fragment=live_x and swapped in; an ETag makes "no change" a 304.
  var etags = {};
  var failures = {};

  function later(name, element) {
    var every = parseFloat(element.getAttribute("data-every") || "5") * 1000;
    var backoff = Math.min(8, Math.pow(2, failures[name] || 0));
    window.setTimeout(function () { refresh(name); }, every * backoff);
  }

  function atBottom(box) {
    return box && box.scrollHeight - box.scrollTop - box.clientHeight < 24;
  }

  function refresh(name) {
    var element = document.querySelector('[data-live="' + name + '"]');
    if (!element) return;
    if (document.hidden) { later(name, element); return; }
    var url = new URL(window.location.href);
    url.searchParams.set("_fragment", name);
    var headers = {};
    if (etags[name]) headers["If-None-Match"] = etags[name];
    fetch(url.toString(), { headers: headers, credentials: "same-origin" }).then(function (response) {
      if (response.status === 304) { failures[name] = 0; later(name, element); return null; }
      if (response.status === 404 || response.redirected) return null; // gone, or logged out
      if (!response.ok) throw new Error(String(response.status));
      etags[name] = response.headers.get("ETag");
      return response.text().then(function (html) {
        failures[name] = 0;
        var template = document.createElement("template");
        template.innerHTML = html.trim();
        var fresh = template.content.firstElementChild;
        if (!fresh) return;
        var oldBox = element.querySelector("[data-follow]");
        var follow = oldBox && atBottom(oldBox);
        var active = document.activeElement && element.contains(document.activeElement);
        if (active) { later(name, element); return; } // never yank a control from under the user
        // A list the reader opened stays open across refreshes.
        element.querySelectorAll("details[open][id]").forEach(function (d) {
          var again = fresh.querySelector("#" + CSS.escape(d.id));
          if (again) again.open = true;
        });
        element.replaceWith(fresh);
        var newBox = fresh.querySelector("[data-follow]");
        if (newBox && (follow || !oldBox)) newBox.scrollTop = newBox.scrollHeight;
        if (fresh.hasAttribute("data-live")) later(name, fresh);
      });
    }).catch(function () {
      failures[name] = (failures[name] || 0) + 1;
      later(name, element);
    });
  }

  function start() {
    document.querySelectorAll("[data-follow]").forEach(function (box) { box.scrollTop = box.scrollHeight; });
    document.querySelectorAll("[data-live]").forEach(function (element) {
      later(element.getAttribute("data-live"), element);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
