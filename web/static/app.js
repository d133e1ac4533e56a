/* zhsearch: keyboard shortcuts and as-you-type suggestions.
 *
 * No framework and no inline script (the CSP forbids it).  Everything the
 * server returns is inserted with textContent, never innerHTML, so titles and
 * tags with markup in them stay text.  The search box's keys, its guard for
 * Chinese input methods, its requests and its active option are the combobox
 * core's (combobox.js, loaded just before this file), which the widget shares.
 */
(function () {
  "use strict";

  var core = zhsearchCombobox();
  var h = core.h;
  var input = document.querySelector("[data-zs-q]");
  var form = document.querySelector("[data-zs-form]");
  var list = document.getElementById("zs-suggest");

  function isEditable(el) {
    if (!el) return false;
    var tag = el.tagName;
    return el.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  function focusBox() {
    if (!input) return;
    input.focus();
    input.select();
  }

  // "/" and Ctrl/Cmd+K focus the search box from anywhere on the page.
  core.onHotkey(focusBox);
  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.isComposing) return;
    if (e.key === "/" && !e.ctrlKey && !e.metaKey && !e.altKey && !isEditable(e.target)) {
      e.preventDefault();
      focusBox();
    }
  });

  // The facet panel is a <details> open by default (works without JS);
  // on a phone it starts closed so results come first.
  var facets = document.querySelector("[data-zs-facets]");
  if (facets && window.matchMedia && window.matchMedia("(max-width: 760px)").matches) {
    facets.open = false;
  }

  // A click on a result tells the site owner's report (`zhsearch analytics`)
  // which result of this search was opened: one beacon, which the browser
  // sends on its own, so following the link never waits for it.
  var results = document.querySelector("[data-zs-search]");
  if (results && navigator.sendBeacon) {
    var onResult = function (e) {
      if (e.type === "auxclick" && e.button !== 1) return;
      // the links that open a result: its title, its section, its local preview
      var a = e.target.closest ? e.target.closest("a[data-zs-hit], a.result-section, a.result-local") : null;
      var li = a && a.closest("li.result");
      if (!li) return;
      var rank = Array.prototype.indexOf.call(results.querySelectorAll("li.result"), li) + 1;
      try {
        navigator.sendBeacon(results.getAttribute("data-zs-click"), JSON.stringify({
          search: results.getAttribute("data-zs-search"), rank: rank
        }));
      } catch (err) { /* blocked: the link still opens */ }
    };
    results.addEventListener("click", onResult);
    results.addEventListener("auxclick", onResult);
  }

  if (!input || !list || !form) return;

  if (input.hasAttribute("autofocus") && document.activeElement !== input) {
    input.focus();
  }

  var box = new core.Combobox(input, list, {
    run: fetchSuggestions,
    idPrefix: "zs-opt-",
    keys: {
      ArrowDown: function () {  // the list is closed: open it
        if (input.value.trim()) box.schedule(true);
      },
      Enter: function (e, item) {
        if (item) {
          e.preventDefault();
          go(item.url);
        } else {
          close();  // plain Enter: submit the search
        }
      },
      Escape: function (e) {
        if (!list.hidden) {
          e.preventDefault();
          close();
        } else if (input.value) {
          e.preventDefault();
          input.value = "";
        } else {
          input.blur();
        }
      },
      Tab: function () { close(); }
    }
  });

  function close() {
    list.hidden = true;
    box.clear();
    box.expanded(false);
  }

  // Text with the typed prefix in bold, built from text nodes only.
  function highlighted(text, q) {
    var pos = q ? text.toLowerCase().indexOf(q.toLowerCase()) : -1;
    if (pos < 0 || text.toLowerCase().length !== text.length) return [text];
    return [text.slice(0, pos), h("mark", { text: text.slice(pos, pos + q.length) }), text.slice(pos + q.length)];
  }

  function addGroup(label) {
    list.appendChild(h("li", { "class": "suggest-group", role: "presentation", text: label }));
  }

  function addItem(main, sub, url, q) {
    var li = h("li", { "class": "suggest-item" }, [
      h("span", { "class": "suggest-main" }, highlighted(main, q)),
      sub ? h("span", { "class": "suggest-sub", text: sub }) : null
    ]);
    li.addEventListener("click", function () { go(url); });
    box.add(li, { url: url });
  }

  function render(data, q) {
    box.clear();
    var titles = data.titles || [], tags = data.tags || [];
    if (!titles.length && !tags.length) { close(); return; }
    if (titles.length) {
      addGroup("文章");
      titles.forEach(function (t) {
        var folder = (t.name || t.path || "").split("/").slice(0, -1).join(" / ");
        addItem(t.title, folder, t.url, q);
      });
    }
    if (tags.length) {
      addGroup("标签");
      tags.forEach(function (t) { addItem("#" + t.value, t.count + " 篇", t.url, q); });
    }
    list.appendChild(h("li", { "class": "suggest-hint", role: "presentation", text: "↑↓ 选择 · Enter 打开 · Esc 关闭" }));
    list.hidden = false;
    box.expanded(true);
  }

  function go(url) {
    close();
    window.location.href = url;
  }

  function fetchSuggestions() {
    var q = input.value.trim();
    if (!q) { close(); return; }
    var req = box.requests.start();
    // the form knows the endpoint's URL (the site may live under a path prefix)
    var url = (form.getAttribute("data-zs-suggest") || "/api/suggest") + "?q=" + encodeURIComponent(q);
    core.getJSON(url, req.signal).then(function (res) {
      if (!req.live() || !res.ok || !res.body || document.activeElement !== input) return;
      if (input.value.trim() !== q) return;
      render(res.body, q);
    }).catch(function () { /* aborted or offline: no suggestions */ });
  }

  input.addEventListener("focus", function () { if (input.value.trim() && list.hidden) box.schedule(); });
  input.addEventListener("blur", function () { setTimeout(close, 150); });
  // keep focus in the box while clicking a suggestion
  list.addEventListener("mousedown", function (e) { e.preventDefault(); });

  form.addEventListener("submit", function (e) {
    box.stop();  // a late suggestion answer must not pop up over the next page
    if (!input.value.trim()) {
      e.preventDefault();
      input.focus();
    }
  });
})();
