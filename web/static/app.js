/* zhsearch: keyboard shortcuts and as-you-type suggestions.
 *
 * No framework and no inline script (the CSP forbids it).  Everything the
 * server returns is inserted with textContent, never innerHTML, so titles and
 * tags with markup in them stay text.  Chinese input methods matter: while an
 * IME is composing, Enter and the arrow keys belong to the IME, not to us.
 */
(function () {
  "use strict";

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
  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.isComposing) return;
    var key = e.key;
    if ((key === "k" || key === "K") && (e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey) {
      e.preventDefault();
      focusBox();
    } else if (key === "/" && !e.ctrlKey && !e.metaKey && !e.altKey && !isEditable(e.target)) {
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

  var items = [];      // [{el, url}]
  var active = -1;
  var seq = 0;         // answers to older requests are dropped
  var timer = null;
  var controller = null;
  var composing = false;

  function close() {
    list.hidden = true;
    list.textContent = "";
    items = [];
    active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function setActive(i) {
    if (active >= 0 && items[active]) items[active].el.setAttribute("aria-selected", "false");
    active = i;
    if (active >= 0 && items[active]) {
      var el = items[active].el;
      el.setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", el.id);
      el.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  // Text with the typed prefix in bold, built from text nodes only.
  function highlighted(text, q) {
    var frag = document.createDocumentFragment();
    var pos = q ? text.toLowerCase().indexOf(q.toLowerCase()) : -1;
    if (pos < 0 || text.toLowerCase().length !== text.length) {
      frag.appendChild(document.createTextNode(text));
      return frag;
    }
    if (pos > 0) frag.appendChild(document.createTextNode(text.slice(0, pos)));
    var m = document.createElement("mark");
    m.textContent = text.slice(pos, pos + q.length);
    frag.appendChild(m);
    frag.appendChild(document.createTextNode(text.slice(pos + q.length)));
    return frag;
  }

  function addGroup(label) {
    var li = document.createElement("li");
    li.className = "suggest-group";
    li.setAttribute("role", "presentation");
    li.textContent = label;
    list.appendChild(li);
  }

  function addItem(main, sub, url, q) {
    var li = document.createElement("li");
    li.className = "suggest-item";
    li.id = "zs-opt-" + items.length;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", "false");
    var a = document.createElement("span");
    a.className = "suggest-main";
    a.appendChild(highlighted(main, q));
    li.appendChild(a);
    if (sub) {
      var s = document.createElement("span");
      s.className = "suggest-sub";
      s.textContent = sub;
      li.appendChild(s);
    }
    var index = items.length;
    li.addEventListener("mousemove", function () { if (active !== index) setActive(index); });
    li.addEventListener("click", function () { go(url); });
    items.push({ el: li, url: url });
    list.appendChild(li);
  }

  function render(data, q) {
    list.textContent = "";
    items = [];
    active = -1;
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
    var hint = document.createElement("li");
    hint.className = "suggest-hint";
    hint.setAttribute("role", "presentation");
    hint.textContent = "↑↓ 选择 · Enter 打开 · Esc 关闭";
    list.appendChild(hint);
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function go(url) {
    close();
    window.location.href = url;
  }

  function fetchSuggestions() {
    var q = input.value.trim();
    if (!q) { close(); return; }
    var mine = ++seq;
    if (controller) controller.abort();
    controller = window.AbortController ? new AbortController() : null;
    // the form knows the endpoint's URL (the site may live under a path prefix)
    fetch((form.getAttribute("data-zs-suggest") || "/api/suggest") + "?q=" + encodeURIComponent(q), {
      headers: { "Accept": "application/json" },
      signal: controller ? controller.signal : undefined
    }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (data) {
      if (mine !== seq || !data || document.activeElement !== input) return;
      if (input.value.trim() !== q) return;
      render(data, q);
    }).catch(function () { /* aborted or offline: no suggestions */ });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(fetchSuggestions, 120);
  }

  input.addEventListener("compositionstart", function () { composing = true; });
  input.addEventListener("compositionend", function () { composing = false; schedule(); });
  input.addEventListener("input", function (e) {
    if (composing || e.isComposing) return;  // pinyin being typed: wait for the characters
    schedule();
  });
  input.addEventListener("focus", function () { if (input.value.trim() && list.hidden) schedule(); });
  input.addEventListener("blur", function () { setTimeout(close, 150); });
  // keep focus in the box while clicking a suggestion
  list.addEventListener("mousedown", function (e) { e.preventDefault(); });

  input.addEventListener("keydown", function (e) {
    if (e.isComposing || e.keyCode === 229) return;
    var open = !list.hidden && items.length > 0;
    switch (e.key) {
      case "ArrowDown":
        if (!open) { if (input.value.trim()) fetchSuggestions(); return; }
        e.preventDefault();
        setActive(active + 1 >= items.length ? 0 : active + 1);
        break;
      case "ArrowUp":
        if (!open) return;
        e.preventDefault();
        setActive(active <= 0 ? items.length - 1 : active - 1);
        break;
      case "Enter":
        if (open && active >= 0) {
          e.preventDefault();
          go(items[active].url);
        } else {
          close();  // plain Enter: submit the search
        }
        break;
      case "Escape":
        if (!list.hidden) {
          e.preventDefault();
          close();
        } else if (input.value) {
          e.preventDefault();
          input.value = "";
        } else {
          input.blur();
        }
        break;
      case "Tab":
        close();
        break;
    }
  });

  form.addEventListener("submit", function (e) {
    clearTimeout(timer);
    seq++;  // a late suggestion answer must not pop up over the next page
    if (!input.value.trim()) {
      e.preventDefault();
      input.focus();
    }
  });
})();
