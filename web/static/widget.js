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
 * - The search box's keys, IME guard, requests and active option are the
 *   combobox core's (static/combobox.js), shared with zhsearch's own pages.
 */
(function () {
  "use strict";

  if (window.zhsearch && window.zhsearch.version) return;  // the script was included twice

  // The combobox core (static/combobox.js) takes the place of the next line
  // when the script is served (web/widget.py), as the CSS does below: a
  // function of this closure, so the page gets no second global.
  /*zhsearch:combobox*/
  var core = zhsearchCombobox();
  var h = core.h;

  var CSS = /*zhsearch:css*/"";
  var VERSION = "1";
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
  // the input and its options: {el, kind: "hit"|"section"|"more"|"recent", url?, hit?, section?, query?}
  var box = null;
  var spinnerTimer = null;
  var shown = "";         // the query whose results are on screen
  var enterPending = false;
  var opener = null;      // element focused before opening, focused again on close
  var restoring = false;  // focus going back to the opener must not reopen
  var savedOverflow = null;
  var paging = null;      // {q, page, total, loaded, all, loading}: the results on screen
  var pages = new core.Latest();  // the next page being loaded
  var observer = null;    // loads the next page when its row scrolls into view
  var blockedOrigin = "";  // the server said this page's origin may not call it
  var warned = {};

  // ------------------------------------------------------------ helpers

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
    var name = location.hostname;
    return location.protocol === "file:" || name === "localhost" || /\.localhost$/.test(name) ||
      /^127(\.\d+){3}$/.test(name) || name === "[::1]" || name === "::1";
  }

  // ------------------------------------------------------------- building

  function svg(tag, attrs, children) {
    return core.hNS(SVG, tag, attrs, children);
  }

  function searchIcon() {
    return svg("svg", { "class": "zs-icon", viewBox: "0 0 24 24", width: "20", height: "20",
                        "aria-hidden": "true", focusable: "false" }, [
      svg("circle", { cx: "10.5", cy: "10.5", r: "6.5", fill: "none", stroke: "currentColor", "stroke-width": "2" }),
      svg("path", { d: "M15.5 15.5 20 20", stroke: "currentColor", "stroke-width": "2", "stroke-linecap": "round" })
    ]);
  }

  function button(cls, text, label) {
    return h("button", { "class": "zs-btn" + (cls ? " " + cls : ""), type: "button", "aria-label": label, text: text });
  }

  function build() {
    host = document.createElement("zhsearch-widget");
    // the host element itself is in the page: pin it against any page CSS
    var pin = { all: "initial", position: "fixed", inset: "0", "z-index": "2147483000", display: "none" };
    Object.keys(pin).forEach(function (k) { host.style.setProperty(k, pin[k], "important"); });
    var shadow = host.attachShadow({ mode: "open" });
    var styled = false;
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      shadow.adoptedStyleSheets = [sheet];
      styled = true;
    } catch (e) { /* older browsers: a <style> element below */ }

    ui.shadow = shadow;
    ui.input = h("input", {
      "class": "zs-input", type: "search", placeholder: "搜索文章", maxlength: MAX_QUERY, autocomplete: "off",
      autocapitalize: "off", autocorrect: "off", spellcheck: "false", enterkeyhint: "search", role: "combobox",
      "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": "zs-list", "aria-label": "搜索文章"
    });
    ui.spinner = h("span", { "class": "zs-spinner", hidden: true, "aria-hidden": "true" });
    ui.clear = button("zs-clear", "×", "清空");
    ui.clear.hidden = true;
    ui.esc = button("zs-esc", "Esc", "关闭搜索");
    ui.cancel = button("zs-cancel", "取消");
    ui.bar = h("form", { "class": "zs-bar", role: "search", action: "" },
               [searchIcon(), ui.input, ui.spinner, ui.clear, ui.esc, ui.cancel]);

    ui.status = h("div", { "class": "zs-status", role: "status", "aria-live": "polite" });
    ui.note = h("div", { "class": "zs-note", hidden: true });
    ui.list = h("ul", { "class": "zs-list", id: "zs-list", role: "listbox", "aria-label": "搜索结果" });
    ui.empty = h("div", { "class": "zs-empty", hidden: true });
    ui.body = h("div", { "class": "zs-body" }, [ui.status, ui.note, ui.list, ui.empty]);

    ui.full = h("a", { "class": "zs-link zs-full", hidden: true, text: "完整搜索页 ↗",
                       title: "在 zhsearch 的结果页按标签、分类筛选，或按日期排序" });
    var keys = h("span", { "class": "zs-keys" });
    [["↑", "↓", "选择"], ["↵", "打开"], ["Esc", "关闭"]].forEach(function (g) {
      for (var i = 0; i < g.length - 1; i++) keys.appendChild(h("kbd", { text: g[i] }));
      keys.appendChild(h("span", { text: g[g.length - 1] }));
    });
    var foot = h("div", { "class": "zs-foot" }, [ui.full, keys, h("span", { "class": "zs-brand", text: "zhsearch" })]);

    ui.dialog = h("div", { "class": "zs-dialog", role: "dialog", "aria-modal": "true", "aria-label": "搜索文章" },
                  [ui.bar, ui.body, foot]);
    ui.backdrop = h("div", { "class": "zs-backdrop" });
    ui.root = h("div", { "class": "zs-root" }, [styled ? null : h("style", { text: CSS }), ui.backdrop, ui.dialog]);
    shadow.appendChild(ui.root);
    document.body.appendChild(host);

    if (window.IntersectionObserver) {
      observer = new IntersectionObserver(function (entries) {
        for (var i = 0; i < entries.length; i++) if (entries[i].isIntersecting) loadMore();
      }, { root: ui.body, rootMargin: "0px 0px 160px 0px" });
    }
    wire();
  }

  // --------------------------------------------------------------- events

  function wire() {
    var input = ui.input;
    box = new core.Combobox(input, ui.list, {
      run: run,
      idPrefix: "zs-opt-",
      keys: {
        Enter: function (e) {
          e.preventDefault();
          choose(e.ctrlKey || e.metaKey || e.shiftKey);
        }
      }
    });
    input.addEventListener("input", function () { ui.clear.hidden = !input.value; });
    ui.bar.addEventListener("submit", function (e) { e.preventDefault(); });
    ui.clear.addEventListener("click", function () {
      input.value = "";
      ui.clear.hidden = true;
      input.focus();
      box.schedule(true);
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

  function onDialogKey(e) {
    if (e.key === "Escape" || core.isHotkey(e)) {
      if (box.imeKey(e)) return;  // Esc cancels the composition first
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

  // A reader opens a result (an article or one of its sections): by a click,
  // however the browser then navigates, or by Enter (choose).  Every result
  // passes here first, once.
  function opened(item) {
    remember(ui.input.value);
    clicked(item);
  }

  // Enter (not an IME's: the combobox core keeps those).
  function choose(newTab) {
    var q = ui.input.value.trim();
    var item = box.current();
    if (!q) {
      if (item && item.kind === "recent") useQuery(item.query);
      return;
    }
    if (q !== shown || box.pending()) {  // results on screen are for an older query: open once they arrive
      enterPending = true;
      box.schedule(true);
      return;
    }
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
    box.schedule(true);
  }

  // -------------------------------------------------------------- search

  function apiUrl(q, page) {
    return API + "?q=" + encodeURIComponent(q) + "&limit=" + LIMIT + (page > 1 ? "&page=" + page : "");
  }

  function errorMessage(res) {
    var msg = res.body && res.body.error && res.body.error.message;
    return res.status === 503 ? "搜索索引暂时不可用，请稍后再试。" : (msg || "搜索出错了（" + res.status + "）。");
  }

  // The reader paused (or chose): search for what the box holds.
  function run() {
    var q = ui.input.value.trim();
    pages.cancel();
    if (!q) {
      box.requests.cancel();
      shown = "";
      enterPending = false;
      spin(false);
      showRecent();
      return;
    }
    var req = box.requests.start();
    clearTimeout(spinnerTimer);
    spinnerTimer = setTimeout(function () { spin(true); }, SPINNER_MS);
    core.getJSON(apiUrl(q, 1), req.signal).then(function (res) {
      if (!req.live()) return;
      spin(false);
      if (!res.ok || !res.body) {
        showError(errorMessage(res));
        return;
      }
      blockedOrigin = "";
      showResults(q, res.body);
    }).catch(function (err) {
      if (!req.live() || (err && err.name === "AbortError")) return;
      spin(false);
      unreachable(req);
    });
  }

  // The search request got no readable answer: the network, or a server that
  // does not allow this page's origin (CORS refusals look the same to fetch).
  // The server's public origin check tells them apart.
  function unreachable(req) {
    if (blockedOrigin) { showBlocked(blockedOrigin); return; }
    core.getJSON(ORIGIN_CHECK).then(function (res) {
      if (!req.live()) return;
      var b = res.body;
      if (res.ok && b && b.allowed === false) {
        blockedOrigin = typeof b.origin === "string" && b.origin ? b.origin : location.origin;
        showBlocked(blockedOrigin);
      } else {
        offline();
      }
    }).catch(function () {
      if (req.live()) offline();
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
    var code = h("code", { "class": "zs-fix", text: "zhsearch serve " + fix });
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
    if (!searchId || searchId === settledId || !isOpen || box.pending() || ui.input.value.trim() !== shown) return;
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
    box.clear();
    paging = null;
    ui.note.hidden = true;
    ui.note.textContent = "";
    ui.empty.hidden = true;
    ui.empty.textContent = "";
    ui.full.hidden = true;
  }

  // One option of the list; `link` (an <a> inside it), when given, is what a
  // click follows.  Returns the option's index.
  function addItem(li, item, link) {
    if (link) {
      link.tabIndex = -1;
      link.addEventListener("click", function (e) {
        opened(item);
        if (!(e.ctrlKey || e.metaKey || e.shiftKey || e.button === 1)) close(true);
      });
      link.addEventListener("auxclick", function (e) { if (e.button === 1) opened(item); });
      li.appendChild(link);
    }
    return box.add(li, item);
  }

  function showRecent() {
    resetList();
    ui.status.textContent = "";
    var recent = loadRecent();
    box.expanded(recent.length > 0);
    if (!recent.length) {
      ui.empty.hidden = false;
      ui.empty.appendChild(h("p", { text: "输入关键词搜索全站文章" }));
      ui.empty.appendChild(h("p", { "class": "zs-hint", text: "支持中文、英文和拼音，例如：GPT-4 参数" }));
      return;
    }
    var wipe = button("", "清除");
    wipe.addEventListener("click", function () { saveRecent([]); showRecent(); ui.input.focus(); });
    ui.list.appendChild(h("li", { "class": "zs-group", role: "presentation" }, [h("span", { text: "最近搜索" }), wipe]));
    recent.forEach(function (q) {
      var x = button("zs-forget", "×", "删除“" + q + "”");
      x.tabIndex = -1;
      x.addEventListener("click", function (e) {
        e.stopPropagation();
        forget(q);
        showRecent();
        ui.input.focus();
      });
      var li = h("li", { "class": "zs-item zs-recent" }, [h("span", { "class": "zs-recent-q", text: q }), x]);
      li.addEventListener("click", function () { useQuery(q); });
      addItem(li, { kind: "recent", query: q });
    });
  }

  // An element holding the server's "escaped text with <mark>".
  function marked(tag, cls, html) {
    var e = h(tag, { "class": cls });
    appendMarked(e, html);
    return e;
  }

  // One article: a row with its title (linking to the article), then its
  // matching sections as rows under it, each linking to its heading.  A
  // passage before the first heading (or under a heading that repeats the
  // title) is shown in the article's own row.  Returns the index of the row
  // of its best passage (what Enter opens first), or -1.
  function addArticle(hit, rank, sid) {
    if (!hit || typeof hit !== "object") return -1;
    var url = safeUrl(hit.article_url || hit.url);
    if (!url) return -1;
    var sections = (Array.isArray(hit.sections) ? hit.sections : []).filter(function (s) {
      return s && typeof s === "object" && safeUrl(s.url);
    });
    var lead = null, subs = [];
    sections.forEach(function (s) {
      if (!s.heading || s.heading === hit.title) {
        if (!lead) lead = s;
      } else {
        subs.push(s);
      }
    });

    var crumbs = (Array.isArray(hit.crumbs) ? hit.crumbs : []).filter(function (c) { return typeof c === "string"; });
    var date = typeof hit.date === "string" && hit.date ? hit.date : "";
    var text = lead ? lead.snippet_html : (sections.length ? "" : hit.snippet_html);
    var a = h("a", { "class": "zs-hit", href: url }, [
      crumbs.length || hit.date ? h("span", { "class": "zs-meta" }, [
        crumbs.length ? h("span", { "class": "zs-crumbs", text: crumbs.join(" › ") }) : null,
        date ? h("span", { "class": "zs-date", text: date }) : null
      ]) : null,
      marked("span", "zs-title", hit.title_html),
      text ? marked("span", "zs-snippet", text) : null
    ]);
    var li = h("li", { "class": "zs-item zs-article" + (subs.length ? " zs-has-subs" : "") });
    var first = addItem(li, { kind: "hit", url: url, hit: hit, rank: rank, sid: sid }, a);
    var best = sections.length && sections[0] !== lead ? -1 : first;

    subs.forEach(function (s, k) {
      var head = typeof s.heading_html === "string" ? marked("span", "zs-section", s.heading_html)
        : h("span", { "class": "zs-section", text: s.heading });
      var link = h("a", { "class": "zs-hit", href: safeUrl(s.url) },
                   [head, s.snippet_html ? marked("span", "zs-snippet", s.snippet_html) : null]);
      var sub = h("li", { "class": "zs-item zs-sub" + (k === subs.length - 1 ? " zs-sub-last" : "") });
      var i = addItem(sub, { kind: "section", url: link.href, hit: hit, section: s, rank: rank, sid: sid }, link);
      if (s === sections[0]) best = i;
    });
    return best < 0 ? first : best;
  }

  // `sid`: the search id of the answer they came with (rank 1 is its first hit).
  function addArticles(hits, sid) {
    var best = -1;
    sid = typeof sid === "string" && sid ? sid : null;
    hits.forEach(function (hit, k) {
      var i = addArticle(hit, k + 1, sid);
      if (best < 0) best = i;
    });
    return best;
  }

  // The last row, while more results exist than are shown: "查看全部 N 条
  // 结果" pages through them here, in the dialog; from then on each next page
  // comes as the row scrolls into view (or is chosen).
  function addPager() {
    if (!paging || paging.loaded >= paging.total || paging.page >= MAX_PAGE) return;
    var li = h("li", { "class": "zs-item zs-page" }, [
      h("span", { "class": "zs-page-label", text: paging.all ? "显示更多结果" : "查看全部 " + paging.total + " 条结果" }),
      h("span", { "class": "zs-page-count", text: "已显示 " + paging.loaded + " / " + paging.total })
    ]);
    li.addEventListener("click", function () { loadMore(); ui.input.focus(); });
    addItem(li, { kind: "more" });
    if (paging.all && observer) observer.observe(li);
  }

  function pagerItem() {
    var last = box.items[box.items.length - 1];
    return last && last.kind === "more" ? last : null;
  }

  // The next page of the results on screen, in place of the pager's row; it
  // dies with them (a new search, the dialog closed).
  function loadMore() {
    var row = pagerItem();
    if (!row || !paging || paging.loading || paging.q !== shown) return;
    paging.loading = true;
    paging.all = true;
    row.el.firstChild.textContent = "正在加载…";
    var search = box.requests.current(), req = pages.start(), next = paging.page + 1, state = paging;
    core.getJSON(apiUrl(state.q, next), req.signal).then(function (res) {
      if (!search.live() || state !== paging) return;
      state.loading = false;
      if (!res.ok || !res.body) {
        row.el.firstChild.textContent = "加载失败，点击重试";
        return;
      }
      var wasActive = box.current() === row;
      if (observer) observer.unobserve(row.el);
      box.pop();
      var hits = Array.isArray(res.body.hits) ? res.body.hits : [];
      state.page = next;
      state.loaded += hits.length;
      state.total = hits.length && typeof res.body.total === "number" ? res.body.total : state.loaded;
      var firstNew = box.items.length;
      addArticles(hits, res.body.search_id);
      addPager();
      box.expanded(box.items.length > 0);
      if (wasActive) box.setActive(box.items[firstNew] ? firstNew : box.items.length - 1);
    }).catch(function (err) {
      if (!search.live() || state !== paging || (err && err.name === "AbortError")) return;
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
    box.expanded(box.items.length > 0);
    if (!box.items.length) {
      ui.empty.hidden = false;
      ui.empty.insertBefore(h("p", { text: "没有找到与“" + q + "”相关的文章" }), ui.empty.firstChild);
      ui.empty.appendChild(h("p", { "class": "zs-hint", text: "试试更少或更通用的关键词" }));
    } else {
      box.setActive(best >= 0 ? best : 0);
      ui.body.scrollTop = 0;
    }
    searchShown(data.search_id);
    if (enterPending) {
      enterPending = false;
      choose(false);
    }
  }

  function suggest(text, where) {
    var b = h("button", { "class": "zs-sugg", type: "button", text: text });
    b.addEventListener("click", function () { useQuery(text); });
    where.hidden = false;
    where.appendChild(h("p", null, ["您是不是要找：", b]));
  }

  // An error instead of results: `message`, then `hints` (text or elements).
  function showError(message, hints) {
    resetList();
    shown = "";
    enterPending = false;
    ui.status.textContent = "";
    ui.empty.hidden = false;
    ui.empty.appendChild(h("p", { "class": "zs-error", text: message }));
    (hints || []).forEach(function (hint) {
      ui.empty.appendChild(h("p", { "class": "zs-hint" }, [hint]));
    });
    box.expanded(false);
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
      if (ui.input.value.trim() !== shown) box.schedule(true);
    } else {
      showRecent();
    }
  }

  function close(navigating) {
    if (!isOpen) return;
    isOpen = false;
    enterPending = false;
    box.stop();  // an answer still on its way is dropped
    pages.cancel();
    if (paging && paging.loading) {  // the page being fetched is dropped: its row is offered again
      paging.loading = false;
      var row = pagerItem();
      if (row) row.el.firstChild.textContent = "显示更多结果";
    }
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
  core.onHotkey(function () { if (isOpen) close(); else open(); });

  window.zhsearch = {
    version: VERSION,
    open: function (q) { open(typeof q === "string" ? q : undefined); },
    close: function () { close(); }
  };
})();
