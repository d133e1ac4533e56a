/* zhsearch widget: a search box for your own site.
 *
 *   <script src="https://search.example.com/widget.js" defer></script>
 *   <input data-zhsearch placeholder="搜索">   (or <button data-zhsearch>搜索</button>)
 *
 * Focusing or clicking a [data-zhsearch] element, clicking a link to
 * zhsearch's own results page (https://search.example.com/search: a menu item
 * that also works without JavaScript) or to "#zhsearch", or Ctrl/Cmd+K
 * anywhere opens a search dialog.  It asks the zhsearch server this script
 * came from (`api/widget`, next to widget.js) as the reader types, and lists
 * results as links to the articles on the site itself: each article with its
 * best matching sections under it, each linking to its heading (as DocSearch
 * does); "查看全部" pages through the rest inside the dialog.
 *
 * Rules this file keeps:
 * - The host page cannot restyle it and it cannot restyle the host page: the
 *   dialog lives in an open Shadow DOM root on its own <zhsearch-widget>
 *   element, reset with `all: initial`; the host's own elements are never
 *   modified.  One global: `window.zhsearch` ({open, close, version}).  The
 *   one thing taken from the page is its accent colour (accent()).
 * - Nothing from the server is inserted as HTML.  Titles and snippets come
 *   as escaped text plus <mark>; they are split on <mark>/</mark>, unescaped
 *   and inserted as text nodes, so `<img onerror>` in a title stays text.
 *   Links must resolve to http(s).
 * - Chinese input methods: no request while a composition is open, and the
 *   Enter that ends a composition (keyCode 229, or just after
 *   compositionend in Safari) never opens a result.
 * - Every way of opening a result (a click, Enter) passes through opened().
 */
(function () {
  "use strict";

  if (window.zhsearch && window.zhsearch.version) return;  // the script was included twice

  var CSS = /*zhsearch:css*/"";
  var VERSION = "1";
  var DEBOUNCE_MS = 140;
  var SPINNER_MS = 250;
  var LIMIT = 8;
  var RECENT_MAX = 8;
  var MAX_QUERY = 256;
  var MAX_PAGE = 1000;    // the server's last page
  //  Accent colours of the generators' default themes, read when the page
  //  names none (README "Add zhsearch to your site"): VitePress, VuePress 2.
  var THEME_ACCENTS = ["--vp-c-brand-1", "--vp-c-brand", "--vp-c-accent"];

  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  if (!script || !script.src) return;
  var SCRIPT_URL = new URL(script.src, document.baseURI);
  var ORIGIN = SCRIPT_URL.origin;
  var API = new URL("api/widget", SCRIPT_URL).href;
  var ORIGIN_CHECK = new URL("api/widget/origin", SCRIPT_URL).href;
  var RESULTS_PAGE = new URL("search", SCRIPT_URL);  // zhsearch's own results page
  var RECENT_KEY = "zhsearch:recent:" + ORIGIN;
  var SVG = "http://www.w3.org/2000/svg";

  // ---------------------------------------------------------------- state

  var host = null;        // <zhsearch-widget>, created on first open
  var ui = {};            // elements inside the shadow root
  var isOpen = false;
  var items = [];         // [{el, kind: "hit"|"section"|"more"|"recent", url?, hit?, section?, query?}]
  var active = -1;
  var timer = null;
  var spinnerTimer = null;
  var controller = null;
  var seq = 0;            // answers to older requests are dropped
  var shown = "";         // the query whose results are on screen
  var composing = false;
  var compositionEndedAt = 0;
  var enterPending = false;
  var opener = null;      // element focused before opening, focused again on close
  var restoring = false;  // focus going back to the opener must not reopen
  var savedOverflow = null;
  var paging = null;      // {q, page, total, loaded, all, loading}: the results on screen
  var moreController = null;
  var observer = null;    // loads the next page when its row scrolls into view
  var blockedOrigin = "";  // the server said this page's origin may not call it
  var warned = {};

  // ------------------------------------------------------------ helpers

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  var ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

  function unescapeText(s) {
    return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, function (all, name) {
      if (name.charAt(0) === "#") {
        var code = name.charAt(1).toLowerCase() === "x" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
        return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : all;
      }
      var v = ENTITIES[name.toLowerCase()];
      return v === undefined ? all : v;
    });
  }

  // "escaped text with <mark>…</mark>" → text nodes and <mark> elements only
  function appendMarked(parent, html) {
    var parts = String(html || "").split(/(<mark>|<\/mark>)/);
    var inMark = false;
    for (var i = 0; i < parts.length; i++) {
      var p = parts[i];
      if (p === "<mark>") { inMark = true; continue; }
      if (p === "</mark>") { inMark = false; continue; }
      if (!p) continue;
      var text = document.createTextNode(unescapeText(p));
      if (inMark) {
        var m = document.createElement("mark");
        m.appendChild(text);
        parent.appendChild(m);
      } else {
        parent.appendChild(text);
      }
    }
  }

  function safeUrl(u) {
    try {
      var url = new URL(u, ORIGIN);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function loadRecent() {
    try {
      var v = JSON.parse(window.localStorage.getItem(RECENT_KEY) || "[]");
      return Array.isArray(v) ? v.filter(function (q) { return typeof q === "string" && q; }).slice(0, RECENT_MAX) : [];
    } catch (e) {
      return [];  // storage disabled (privacy settings, sandboxed frame)
    }
  }

  function saveRecent(list) {
    try {
      window.localStorage.setItem(RECENT_KEY, JSON.stringify(list.slice(0, RECENT_MAX)));
    } catch (e) { /* storage full or disabled: recent searches are a nicety */ }
  }

  function remember(q) {
    q = (q || "").trim();
    if (!q) return;
    saveRecent([q].concat(loadRecent().filter(function (x) { return x !== q; })));
  }

  function forget(q) {
    saveRecent(loadRecent().filter(function (x) { return x !== q; }));
  }

  // The host page's own dark mode, when it has one; else the system's (prefers-color-scheme).
  function theme() {
    var html = document.documentElement, body = document.body;
    var t = (html.getAttribute("data-theme") || "").toLowerCase();
    if (html.classList.contains("dark") || t === "dark" || (body && body.classList.contains("theme-mode-dark"))) return "dark";
    if (t === "light" || (body && body.classList.contains("theme-mode-light"))) return "light";
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  function warnOnce(key, message, level) {
    if (warned[key] || !window.console) return;
    warned[key] = true;
    (console[level || "warn"] || console.log).call(console, message);
  }

  function isColor(v) {
    return !!v && (!window.CSS || !CSS.supports || CSS.supports("color", v));
  }

  // The host page's accent colour, read at every opening (a theme's dark mode
  // changes it): `data-zhsearch-accent` on the element that opened the dialog,
  // on this <script> or on <html> (a colour, or a CSS variable's name), else
  // the page's `--zhsearch-accent`, else the variable of the generator's
  // default theme (THEME_ACCENTS).  "" when the page names none.
  function accent(from) {
    var style = window.getComputedStyle(document.body || document.documentElement);
    function resolve(v) {
      v = String(v || "").trim();
      var m = /^var\(\s*(--[\w-]+)\s*\)$/.exec(v);
      if (m) v = m[1];
      if (v.slice(0, 2) === "--") v = style.getPropertyValue(v).trim();
      return isColor(v) ? v : "";
    }
    var holders = [from, script, document.documentElement];
    for (var i = 0; i < holders.length; i++) {
      var asked = holders[i] && holders[i].getAttribute && holders[i].getAttribute("data-zhsearch-accent");
      if (!asked) continue;
      var got = resolve(asked);
      if (got) return got;
      warnOnce("accent", "zhsearch: data-zhsearch-accent=\"" + asked + "\" is neither a colour nor a CSS " +
               "variable holding one on this page; the default accent is used.");
      break;
    }
    var names = ["--zhsearch-accent"].concat(THEME_ACCENTS);
    for (var k = 0; k < names.length; k++) {
      var value = resolve(names[k]);
      if (value) return value;
    }
    return "";
  }

  // A page a developer is looking at on their own machine.
  function isLocalPage() {
    var h = location.hostname;
    return location.protocol === "file:" || h === "localhost" || /\.localhost$/.test(h) ||
      /^127(\.\d+){3}$/.test(h) || h === "[::1]" || h === "::1";
  }

  // ------------------------------------------------------------- building

  function svg(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }

  function searchIcon() {
    var s = svg("svg", { "class": "zs-icon", viewBox: "0 0 24 24", width: "20", height: "20",
                         "aria-hidden": "true", focusable: "false" });
    s.appendChild(svg("circle", { cx: "10.5", cy: "10.5", r: "6.5", fill: "none", stroke: "currentColor",
                                  "stroke-width": "2" }));
    s.appendChild(svg("path", { d: "M15.5 15.5 20 20", stroke: "currentColor", "stroke-width": "2",
                                "stroke-linecap": "round" }));
    return s;
  }

  function build() {
    host = document.createElement("zhsearch-widget");
    // the host element itself is in the page: pin it against any page CSS
    var pin = { all: "initial", position: "fixed", inset: "0", "z-index": "2147483000", display: "none" };
    for (var k in pin) host.style.setProperty(k, pin[k], "important");
    var shadow = host.attachShadow({ mode: "open" });
    var styled = false;
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      shadow.adoptedStyleSheets = [sheet];
      styled = true;
    } catch (e) { /* older browsers: a <style> element below */ }

    var root = el("div", "zs-root");
    if (!styled) root.appendChild(el("style", null, CSS));
    var backdrop = el("div", "zs-backdrop");
    var dialog = el("div", "zs-dialog");
    dialog.setAttribute("role", "dialog");
    dialog.setAttribute("aria-modal", "true");
    dialog.setAttribute("aria-label", "搜索文章");

    var bar = el("form", "zs-bar");
    bar.setAttribute("role", "search");
    bar.setAttribute("action", "");
    bar.appendChild(searchIcon());
    var input = el("input", "zs-input");
    input.type = "search";
    input.placeholder = "搜索文章";
    input.maxLength = MAX_QUERY;
    input.setAttribute("autocomplete", "off");
    input.setAttribute("autocapitalize", "off");
    input.setAttribute("autocorrect", "off");
    input.setAttribute("spellcheck", "false");
    input.setAttribute("enterkeyhint", "search");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", "zs-list");
    input.setAttribute("aria-label", "搜索文章");
    var spinner = el("span", "zs-spinner");
    spinner.hidden = true;
    spinner.setAttribute("aria-hidden", "true");
    var clear = el("button", "zs-btn zs-clear", "×");
    clear.type = "button";
    clear.hidden = true;
    clear.setAttribute("aria-label", "清空");
    var esc = el("button", "zs-btn zs-esc", "Esc");
    esc.type = "button";
    esc.setAttribute("aria-label", "关闭搜索");
    var cancel = el("button", "zs-btn zs-cancel", "取消");
    cancel.type = "button";
    bar.appendChild(input);
    bar.appendChild(spinner);
    bar.appendChild(clear);
    bar.appendChild(esc);
    bar.appendChild(cancel);

    var body = el("div", "zs-body");
    var status = el("div", "zs-status");
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    var note = el("div", "zs-note");
    note.hidden = true;
    var list = el("ul", "zs-list");
    list.id = "zs-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "搜索结果");
    var empty = el("div", "zs-empty");
    empty.hidden = true;
    body.appendChild(status);
    body.appendChild(note);
    body.appendChild(list);
    body.appendChild(empty);

    var foot = el("div", "zs-foot");
    var full = el("a", "zs-link zs-full", "完整搜索页 ↗");
    full.hidden = true;
    full.title = "在 zhsearch 的结果页按标签、分类筛选，或按日期排序";
    var keys = el("span", "zs-keys");
    [["↑", "↓", "选择"], ["↵", "打开"], ["Esc", "关闭"]].forEach(function (g) {
      for (var i = 0; i < g.length - 1; i++) keys.appendChild(el("kbd", null, g[i]));
      keys.appendChild(el("span", null, g[g.length - 1]));
    });
    var brand = el("span", "zs-brand", "zhsearch");
    foot.appendChild(full);
    foot.appendChild(keys);
    foot.appendChild(brand);

    dialog.appendChild(bar);
    dialog.appendChild(body);
    dialog.appendChild(foot);
    root.appendChild(backdrop);
    root.appendChild(dialog);
    shadow.appendChild(root);
    document.body.appendChild(host);

    ui = { shadow: shadow, root: root, dialog: dialog, bar: bar, input: input, spinner: spinner, clear: clear,
           esc: esc, cancel: cancel, body: body, status: status, note: note, list: list, empty: empty,
           full: full, backdrop: backdrop };
    if (window.IntersectionObserver) {
      observer = new IntersectionObserver(function (entries) {
        for (var i = 0; i < entries.length; i++) if (entries[i].isIntersecting) loadMore();
      }, { root: body, rootMargin: "0px 0px 160px 0px" });
    }
    wire();
  }

  // --------------------------------------------------------------- events

  function wire() {
    var input = ui.input;
    input.addEventListener("compositionstart", function () { composing = true; });
    input.addEventListener("compositionend", function () {
      composing = false;
      compositionEndedAt = Date.now();
      schedule();
    });
    input.addEventListener("input", function (e) {
      ui.clear.hidden = !input.value;
      if (composing || e.isComposing) return;  // pinyin being typed: wait for the characters
      schedule();
    });
    input.addEventListener("keydown", onKey);
    ui.bar.addEventListener("submit", function (e) { e.preventDefault(); });
    ui.clear.addEventListener("click", function () {
      input.value = "";
      ui.clear.hidden = true;
      input.focus();
      schedule(true);
    });
    ui.esc.addEventListener("click", close);
    ui.cancel.addEventListener("click", close);
    var downOnBackdrop = false;
    ui.backdrop.addEventListener("pointerdown", function () { downOnBackdrop = true; });
    ui.backdrop.addEventListener("click", function () {
      if (downOnBackdrop) close();
      downOnBackdrop = false;
    });
    ui.dialog.addEventListener("pointerdown", function () { downOnBackdrop = false; });
    ui.dialog.addEventListener("keydown", onDialogKey);
    ui.full.addEventListener("click", function () { remember(input.value); close(true); });
    // Keys typed here are ours: the page's own shortcuts ("/", "s", j/k…) must
    // not see them (they would, retargeted to the shadow host, as if typed
    // outside any input).
    ["keydown", "keyup", "keypress", "input", "beforeinput",
     "compositionstart", "compositionupdate", "compositionend"].forEach(function (type) {
      ui.root.addEventListener(type, function (e) { e.stopPropagation(); });
    });
  }

  function isHotkey(e) {
    return (e.key === "k" || e.key === "K") && (e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey;
  }

  function onDialogKey(e) {
    if (e.key === "Escape" || isHotkey(e)) {
      if (e.isComposing || composing) return;  // Esc cancels the composition first
      e.preventDefault();
      close();
    } else if (e.key === "Tab") {
      trapTab(e);
    }
  }

  function trapTab(e) {
    var f = Array.prototype.filter.call(
      ui.dialog.querySelectorAll("input, button, a[href]"),
      function (x) { return !x.hidden && x.offsetParent !== null && x.tabIndex >= 0; });
    if (!f.length) return;
    var current = ui.shadow.activeElement;
    var i = f.indexOf(current);
    var next = e.shiftKey ? (i <= 0 ? f.length - 1 : i - 1) : (i === f.length - 1 ? 0 : i + 1);
    e.preventDefault();
    f[next].focus();
  }

  function imeEnter(e) {
    return composing || e.isComposing || e.keyCode === 229 || Date.now() - compositionEndedAt < 60;
  }

  function onKey(e) {
    switch (e.key) {
      case "ArrowDown":
      case "ArrowUp":
        if (e.isComposing || composing || !items.length) return;
        e.preventDefault();
        var n = items.length;
        setActive(e.key === "ArrowDown" ? (active + 1) % n : (active <= 0 ? n - 1 : active - 1));
        break;
      case "Enter":
        if (imeEnter(e)) return;  // the Enter that commits the characters, not ours
        e.preventDefault();
        choose(e.ctrlKey || e.metaKey || e.shiftKey);
        break;
    }
  }

  // A reader opens a result (an article or one of its sections): by a click,
  // however the browser then navigates, or by Enter (choose).  Every result
  // passes here first, once.
  function opened(item) {
    remember(ui.input.value);
    clicked(item);
  }

  function choose(newTab) {
    var q = ui.input.value.trim();
    if (!q) {
      var r = items[active];
      if (r && r.kind === "recent") useQuery(r.query);
      return;
    }
    if (q !== shown || timer) {  // results on screen are for an older query: open once they arrive
      enterPending = true;
      schedule(true);
      return;
    }
    var item = items[active];
    if (!item) { settle("enter"); return; }
    if (item.kind === "recent") { useQuery(item.query); return; }
    if (item.kind === "more") { loadMore(); return; }
    opened(item);
    if (newTab) {
      window.open(item.url, "_blank", "noopener");
      return;
    }
    close(true);
    window.location.assign(item.url);
  }

  function useQuery(q) {
    ui.input.value = q;
    ui.clear.hidden = !q;
    ui.input.focus();
    schedule(true);
  }

  function setActive(i) {
    if (active >= 0 && items[active]) items[active].el.setAttribute("aria-selected", "false");
    active = i;
    var item = items[active];
    if (item) {
      item.el.setAttribute("aria-selected", "true");
      ui.input.setAttribute("aria-activedescendant", item.el.id);
      item.el.scrollIntoView({ block: "nearest" });
    } else {
      ui.input.removeAttribute("aria-activedescendant");
    }
  }

  // -------------------------------------------------------------- search

  function schedule(now) {
    clearTimeout(timer);
    timer = setTimeout(run, now ? 0 : DEBOUNCE_MS);
  }

  function apiUrl(q, page) {
    return API + "?q=" + encodeURIComponent(q) + "&limit=" + LIMIT + (page > 1 ? "&page=" + page : "");
  }

  // GET a JSON answer of the server: {ok, status, body}; rejects when the
  // request never got an answer the page may read (network, CORS, abort).
  function getJSON(url, signal) {
    return fetch(url, {
      method: "GET",
      mode: "cors",
      credentials: "omit",
      headers: { "Accept": "application/json" },
      signal: signal
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (body) {
        return { ok: r.ok, status: r.status, body: body };
      });
    });
  }

  function errorMessage(res) {
    var msg = res.body && res.body.error && res.body.error.message;
    return res.status === 503 ? "搜索索引暂时不可用，请稍后再试。" : (msg || "搜索出错了（" + res.status + "）。");
  }

  function abortAll() {
    if (controller) controller.abort();
    if (moreController) moreController.abort();
    controller = moreController = null;
  }

  function run() {
    timer = null;
    var q = ui.input.value.trim();
    abortAll();
    if (!q) {
      seq++;
      shown = "";
      enterPending = false;
      spin(false);
      showRecent();
      return;
    }
    var mine = ++seq;
    controller = window.AbortController ? new AbortController() : null;
    clearTimeout(spinnerTimer);
    spinnerTimer = setTimeout(function () { spin(true); }, SPINNER_MS);
    getJSON(apiUrl(q, 1), controller ? controller.signal : undefined).then(function (res) {
      if (mine !== seq) return;
      spin(false);
      if (!res.ok || !res.body) {
        showError(errorMessage(res));
        return;
      }
      blockedOrigin = "";
      showResults(q, res.body);
    }).catch(function (err) {
      if (mine !== seq || (err && err.name === "AbortError")) return;
      spin(false);
      unreachable(mine);
    });
  }

  // The search request got no readable answer: the network, or a server that
  // does not allow this page's origin (CORS refusals look the same to fetch).
  // The server's public origin check tells them apart.
  function unreachable(mine) {
    if (blockedOrigin) { showBlocked(blockedOrigin); return; }
    getJSON(ORIGIN_CHECK).then(function (res) {
      if (mine !== seq) return;
      var b = res.body;
      if (res.ok && b && b.allowed === false) {
        blockedOrigin = typeof b.origin === "string" && b.origin ? b.origin : location.origin;
        showBlocked(blockedOrigin);
      } else {
        offline();
      }
    }).catch(function () {
      if (mine === seq) offline();
    });
  }

  function offline() {
    showError("无法连接搜索服务。", ["请检查网络后重试。"]);
    warnOnce("offline", "zhsearch: cannot reach " + API + ".");
  }

  function showBlocked(origin) {
    var fix = "--allow-origin " + origin;
    warnOnce("blocked", "zhsearch: the search server " + ORIGIN + " does not allow pages of " + origin +
             " to call it. Start it with `zhsearch serve " + fix + "` (or add " + origin +
             " to ZHSEARCH_ALLOW_ORIGINS), or serve both from one origin.", "error");
    if (!isLocalPage()) {
      showError("搜索服务暂时不可用。", ["请稍后再试。"]);
      return;
    }
    if (location.protocol === "file:") {
      showError("从本地文件打开的页面不能使用搜索服务。", ["请通过本地 HTTP 服务器打开这个页面。"]);
      return;
    }
    var code = el("code", "zs-fix", "zhsearch serve " + fix);
    showError("这个页面（" + origin + "）还不能使用搜索服务。", ["启动 zhsearch 时加上 " + fix + " 即可：", code]);
  }

  function spin(on) {
    clearTimeout(spinnerTimer);
    if (ui.spinner) ui.spinner.hidden = !on;
  }

  // ------------------------------------------------------------ analytics
  // The site owner's report (`zhsearch analytics`) counts the searches a
  // reader settled on: 1 s without typing once the results are shown, Enter,
  // or a click on a result.  Answers to keystrokes are not recorded: each
  // carries an id (`search_id`), and one beacon names it once the search
  // settles (a click's beacon settles it too).  sendBeacon hands the POST to
  // the browser: opening a result never waits for it, and a blocked beacon
  // changes nothing for the reader.
  var SETTLE_MS = 1000;
  var searchId = null;    // the id of the answer on screen
  var settledId = null;   // the last id a beacon was sent for
  var settleTimer = null;

  // `id`: the answer the beacon is about (a page loaded in the dialog has its
  // own); by default the one on screen.
  function beacon(endpoint, data, id) {
    id = id || searchId;
    if (id === searchId) {
      clearTimeout(settleTimer);
      settledId = searchId;
    }
    if (!id || !navigator.sendBeacon) return;
    data.search = id;
    data.page = location.pathname;
    try {
      navigator.sendBeacon(new URL(endpoint, SCRIPT_URL).href, JSON.stringify(data));
    } catch (e) { /* refused by the page's policy: the reader carries on */ }
  }

  function searchShown(id) {
    clearTimeout(settleTimer);
    searchId = typeof id === "string" && id ? id : null;
    if (searchId) settleTimer = setTimeout(function () { settle("idle"); }, SETTLE_MS);
  }

  function settle(how) {
    // idle: still open, nothing typed since (a keystroke's answer re-arms this)
    if (!searchId || searchId === settledId || !isOpen || timer || ui.input.value.trim() !== shown) return;
    beacon("api/settle", { how: how });
  }

  // A result opened: its rank in the answer it came with (an article's
  // sections share its rank).
  function clicked(item) {
    if (item.rank) beacon("api/click", { rank: item.rank }, item.sid);
  }

  // ------------------------------------------------------------- rendering

  function resetList() {
    if (observer) observer.disconnect();
    ui.list.textContent = "";
    items = [];
    active = -1;
    paging = null;
    ui.input.removeAttribute("aria-activedescendant");
    ui.note.hidden = true;
    ui.note.textContent = "";
    ui.empty.hidden = true;
    ui.empty.textContent = "";
    ui.full.hidden = true;
  }

  // One option of the list; `link` (an <a> inside it), when given, is what a
  // click follows.  Returns the option's index.
  function addItem(li, item, link) {
    li.id = "zs-opt-" + ui.list.childElementCount;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", "false");
    li.addEventListener("mousemove", function () {
      var i = items.indexOf(item);
      if (i >= 0 && active !== i) setActive(i);
    });
    if (link) {
      link.tabIndex = -1;
      link.addEventListener("click", function (e) {
        opened(item);
        if (!(e.ctrlKey || e.metaKey || e.shiftKey || e.button === 1)) close(true);
      });
      link.addEventListener("auxclick", function (e) { if (e.button === 1) opened(item); });
      li.appendChild(link);
    }
    item.el = li;
    items.push(item);
    ui.list.appendChild(li);
    return items.length - 1;
  }

  function showRecent() {
    resetList();
    ui.status.textContent = "";
    var recent = loadRecent();
    ui.input.setAttribute("aria-expanded", recent.length ? "true" : "false");
    if (!recent.length) {
      ui.empty.hidden = false;
      ui.empty.appendChild(el("p", null, "输入关键词搜索全站文章"));
      ui.empty.appendChild(el("p", "zs-hint", "支持中文、英文和拼音，例如：GPT-4 参数"));
      return;
    }
    var head = el("li", "zs-group");
    head.setAttribute("role", "presentation");
    head.appendChild(el("span", null, "最近搜索"));
    var wipe = el("button", "zs-btn", "清除");
    wipe.type = "button";
    wipe.addEventListener("click", function () { saveRecent([]); showRecent(); ui.input.focus(); });
    head.appendChild(wipe);
    ui.list.appendChild(head);
    recent.forEach(function (q) {
      var li = el("li", "zs-item zs-recent");
      li.appendChild(el("span", "zs-recent-q", q));
      var x = el("button", "zs-btn zs-forget", "×");
      x.type = "button";
      x.tabIndex = -1;
      x.setAttribute("aria-label", "删除“" + q + "”");
      x.addEventListener("click", function (e) {
        e.stopPropagation();
        forget(q);
        showRecent();
        ui.input.focus();
      });
      li.appendChild(x);
      li.addEventListener("click", function () { useQuery(q); });
      addItem(li, { kind: "recent", query: q });
    });
  }

  function snippet(html) {
    var s = el("span", "zs-snippet");
    appendMarked(s, html);
    return s;
  }

  // One article: a row with its title (linking to the article), then its
  // matching sections as rows under it, each linking to its heading.  A
  // passage before the first heading (or under a heading that repeats the
  // title) is shown in the article's own row.  Returns the index of the row
  // of its best passage (what Enter opens first), or -1.
  function addArticle(h, rank, sid) {
    if (!h || typeof h !== "object") return -1;
    var url = safeUrl(h.article_url || h.url);
    if (!url) return -1;
    var sections = (Array.isArray(h.sections) ? h.sections : []).filter(function (s) {
      return s && typeof s === "object" && safeUrl(s.url);
    });
    var lead = null, subs = [];
    sections.forEach(function (s) {
      if (!s.heading || s.heading === h.title) {
        if (!lead) lead = s;
      } else {
        subs.push(s);
      }
    });

    var li = el("li", "zs-item zs-article" + (subs.length ? " zs-has-subs" : ""));
    var a = el("a", "zs-hit");
    a.href = url;
    var crumbs = (Array.isArray(h.crumbs) ? h.crumbs : []).filter(function (c) { return typeof c === "string"; });
    if (crumbs.length || h.date) {
      var meta = el("span", "zs-meta");
      if (crumbs.length) meta.appendChild(el("span", "zs-crumbs", crumbs.join(" › ")));
      if (typeof h.date === "string" && h.date) meta.appendChild(el("span", "zs-date", h.date));
      a.appendChild(meta);
    }
    var title = el("span", "zs-title");
    appendMarked(title, h.title_html);
    a.appendChild(title);
    var text = lead ? lead.snippet_html : (sections.length ? "" : h.snippet_html);
    if (text) a.appendChild(snippet(text));
    var first = addItem(li, { kind: "hit", url: url, hit: h, rank: rank, sid: sid }, a);
    var best = sections.length && sections[0] !== lead ? -1 : first;

    subs.forEach(function (s, k) {
      var sub = el("li", "zs-item zs-sub" + (k === subs.length - 1 ? " zs-sub-last" : ""));
      var link = el("a", "zs-hit");
      link.href = safeUrl(s.url);
      var head = el("span", "zs-section");
      if (typeof s.heading_html === "string") appendMarked(head, s.heading_html);
      else head.textContent = s.heading;
      link.appendChild(head);
      if (s.snippet_html) link.appendChild(snippet(s.snippet_html));
      var i = addItem(sub, { kind: "section", url: link.href, hit: h, section: s, rank: rank, sid: sid }, link);
      if (s === sections[0]) best = i;
    });
    return best < 0 ? first : best;
  }

  // `sid`: the search id of the answer they came with (rank 1 is its first hit).
  function addArticles(hits, sid) {
    var best = -1;
    sid = typeof sid === "string" && sid ? sid : null;
    hits.forEach(function (h, k) {
      var i = addArticle(h, k + 1, sid);
      if (best < 0) best = i;
    });
    return best;
  }

  // The last row, while more results exist than are shown: "查看全部 N 条
  // 结果" pages through them here, in the dialog; from then on each next page
  // comes as the row scrolls into view (or is chosen).
  function addPager() {
    if (!paging || paging.loaded >= paging.total || paging.page >= MAX_PAGE) return;
    var li = el("li", "zs-item zs-page");
    li.appendChild(el("span", "zs-page-label",
                      paging.all ? "显示更多结果" : "查看全部 " + paging.total + " 条结果"));
    li.appendChild(el("span", "zs-page-count", "已显示 " + paging.loaded + " / " + paging.total));
    li.addEventListener("click", function () { loadMore(); ui.input.focus(); });
    addItem(li, { kind: "more" });
    if (paging.all && observer) observer.observe(li);
  }

  function pagerItem() {
    var last = items[items.length - 1];
    return last && last.kind === "more" ? last : null;
  }

  function loadMore() {
    var row = pagerItem();
    if (!row || !paging || paging.loading || paging.q !== shown) return;
    paging.loading = true;
    paging.all = true;
    row.el.firstChild.textContent = "正在加载…";
    var mine = seq, next = paging.page + 1, state = paging;
    if (moreController) moreController.abort();
    moreController = window.AbortController ? new AbortController() : null;
    getJSON(apiUrl(state.q, next), moreController ? moreController.signal : undefined).then(function (res) {
      if (mine !== seq || state !== paging) return;
      state.loading = false;
      if (!res.ok || !res.body) {
        row.el.firstChild.textContent = "加载失败，点击重试";
        return;
      }
      var wasActive = items[active] === row;
      if (observer) observer.unobserve(row.el);
      items.pop();
      row.el.remove();
      var hits = Array.isArray(res.body.hits) ? res.body.hits : [];
      state.page = next;
      state.loaded += hits.length;
      state.total = hits.length && typeof res.body.total === "number" ? res.body.total : state.loaded;
      var firstNew = items.length;
      addArticles(hits, res.body.search_id);
      addPager();
      ui.input.setAttribute("aria-expanded", items.length ? "true" : "false");
      if (wasActive) setActive(items[firstNew] ? firstNew : items.length - 1);
    }).catch(function (err) {
      if (mine !== seq || state !== paging || (err && err.name === "AbortError")) return;
      state.loading = false;
      row.el.firstChild.textContent = "加载失败，点击重试";
    });
  }

  function showResults(q, data) {
    resetList();
    shown = q;
    var hits = Array.isArray(data.hits) ? data.hits : [];
    var total = typeof data.total === "number" ? data.total : hits.length;
    ui.status.textContent = hits.length ? "找到 " + total + " 篇相关文章" : "";
    if (data.note) {
      ui.note.hidden = false;
      ui.note.textContent = data.note;
    }
    if (data.suggestion) suggest(data.suggestion, hits.length ? ui.note : ui.empty);
    var best = addArticles(hits, data.search_id);
    paging = { q: q, page: 1, total: total, loaded: hits.length, all: false, loading: false };
    addPager();
    var fullUrl = safeUrl(data.more_url);
    if (fullUrl && total > 0) {
      ui.full.href = fullUrl;
      ui.full.hidden = false;
    }
    ui.input.setAttribute("aria-expanded", items.length ? "true" : "false");
    if (!items.length) {
      ui.empty.hidden = false;
      ui.empty.insertBefore(el("p", null, "没有找到与“" + q + "”相关的文章"), ui.empty.firstChild);
      ui.empty.appendChild(el("p", "zs-hint", "试试更少或更通用的关键词"));
    } else {
      setActive(best >= 0 ? best : 0);
      ui.body.scrollTop = 0;
    }
    searchShown(data.search_id);
    if (enterPending) {
      enterPending = false;
      choose(false);
    }
  }

  function suggest(text, where) {
    var p = el("p", null, "您是不是要找：");
    var b = el("button", "zs-sugg", text);
    b.type = "button";
    b.addEventListener("click", function () { useQuery(text); });
    p.appendChild(b);
    where.hidden = false;
    where.appendChild(p);
  }

  // An error instead of results: `message`, then `hints` (text or elements).
  function showError(message, hints) {
    resetList();
    shown = "";
    enterPending = false;
    ui.status.textContent = "";
    ui.empty.hidden = false;
    ui.empty.appendChild(el("p", "zs-error", message));
    (hints || []).forEach(function (h) {
      var p = el("p", "zs-hint");
      if (typeof h === "string") p.textContent = h; else p.appendChild(h);
      ui.empty.appendChild(p);
    });
    ui.input.setAttribute("aria-expanded", "false");
  }

  // ---------------------------------------------------------- open / close

  function open(q, from) {
    if (!document.body) return;
    if (!host) build();
    ui.root.setAttribute("data-theme", theme());
    var color = accent(from);
    if (color) ui.root.style.setProperty("--zs-accent", color);
    else ui.root.style.removeProperty("--zs-accent");
    if (!isOpen) {
      isOpen = true;
      var a = document.activeElement;
      opener = a && a !== document.body && a !== host ? a : null;
      host.style.setProperty("display", "block", "important");
      var de = document.documentElement;
      savedOverflow = de.style.getPropertyValue("overflow");
      de.style.setProperty("overflow", "hidden");
    }
    if (q) ui.input.value = q.slice(0, MAX_QUERY);  // else the last query stays, selected
    ui.clear.hidden = !ui.input.value;
    ui.input.focus();
    ui.input.select();
    if (ui.input.value.trim()) {
      if (ui.input.value.trim() !== shown) schedule(true);
    } else {
      showRecent();
    }
  }

  function close(navigating) {
    if (!isOpen) return;
    isOpen = false;
    clearTimeout(timer);
    timer = null;
    enterPending = false;
    abortAll();
    if (paging && paging.loading) {  // the page being fetched is dropped: its row is offered again
      paging.loading = false;
      var row = pagerItem();
      if (row) row.el.firstChild.textContent = "显示更多结果";
    }
    seq++;
    spin(false);
    host.style.setProperty("display", "none", "important");
    var de = document.documentElement;
    if (savedOverflow) de.style.setProperty("overflow", savedOverflow);
    else de.style.removeProperty("overflow");
    if (opener && navigating !== true && document.contains(opener)) {
      restoring = true;
      try { opener.focus({ preventScroll: true }); } finally { restoring = false; }
    }
    opener = null;
  }

  function trigger(target) {
    if (!target || !target.closest) return null;
    return target.closest('[data-zhsearch], a[href$="#zhsearch"]');
  }

  // A link to zhsearch's own results page (a menu item that works without
  // JavaScript): {q} of the query it carries, or null.
  function resultsLink(target) {
    var a = target && target.closest ? target.closest("a[href]") : null;
    if (!a) return null;
    try {
      var u = new URL(a.href, document.baseURI);
      if (u.origin !== RESULTS_PAGE.origin || u.pathname !== RESULTS_PAGE.pathname) return null;
      return { q: u.searchParams.get("q") || "" };
    } catch (e) {
      return null;
    }
  }

  function typesText(t) {
    var tag = t.tagName;
    return tag === "TEXTAREA" || t.isContentEditable ||
      (tag === "INPUT" && !/^(button|submit|reset|image|checkbox|radio)$/i.test(t.type || ""));
  }

  // Delegated, so elements a site framework renders later (VuePress, Hugo
  // themes with JS navigation) work without the page telling us.  Focusing
  // a text box opens the dialog (the reader means to type); a button opens
  // it when pressed, so tabbing past it does not trap keyboard users.
  document.addEventListener("focusin", function (e) {
    if (restoring || isOpen) return;
    var t = trigger(e.target);
    if (t && typesText(t)) open(t.value || "", t);
  });
  // Capture phase: a theme's router link ("#zhsearch" in a VuePress navbar)
  // sees the click already handled and does not navigate.  A link to the
  // results page opened in a new tab or window (Ctrl, Cmd, Shift) is left to
  // the browser: the reader asked for that page.
  document.addEventListener("click", function (e) {
    if (isOpen || e.button !== 0) return;
    var t = trigger(e.target);
    var link = t ? null : resultsLink(e.target);
    if (!t && !link) return;
    if (link && (e.ctrlKey || e.metaKey || e.shiftKey || e.altKey)) return;
    e.preventDefault();  // a trigger that is a link or a submit button only opens the dialog
    if (link) open(link.q, e.target.closest("a"));
    else open(t.tagName === "A" ? "" : t.value || "", t);
  }, true);
  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.isComposing) return;
    if (isHotkey(e)) {
      e.preventDefault();
      if (isOpen) close(); else open();
    }
  });

  window.zhsearch = {
    version: VERSION,
    open: function (q) { open(typeof q === "string" ? q : undefined); },
    close: function () { close(); }
  };
})();
