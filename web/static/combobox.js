/* zhsearch combobox core: what a search box with a list under it needs,
 * written once for the site's own search box (app.js) and for the dialog
 * other sites embed (widget.js).
 *
 * - Chinese input methods: while an IME composes, its keys (Enter, arrows,
 *   Esc) pick and commit characters, and no request is made.  The Enter that
 *   ends a composition is the IME's too: keyCode 229, or, in Safari, a plain
 *   Enter just after compositionend.
 * - Requests: input is debounced (DEBOUNCE_MS), and only the newest request
 *   counts: starting one aborts the one before, and a late answer to an
 *   older one is dropped (Latest).
 * - The active option: arrows move it (wrapping), the input names it in
 *   aria-activedescendant, the mouse moves it too.
 * - Elements are built by h(): attributes and text, never HTML.
 *
 * The site's pages load this file before app.js (script-src 'self', no
 * inline script) and call zhsearchCombobox().  widget.js gets it pasted into
 * its own closure when it is served (web/widget.py), so the widget stays one
 * request and adds no global of its own: keep this file one function
 * declaration and nothing else.
 */
function zhsearchCombobox() {
  "use strict";

  // One wait for both boxes.  Chinese comes a word at a time (one
  // compositionend each), so the wait matters for Latin letters ("redis",
  // "GPT-4"): at 80 words a minute a key comes every 150 ms, at 100 every
  // 120 ms.  At 140 ms a fast typist gets through a word with fewer requests
  // (for the widget each is a full search with snippets, often over the
  // internet) and a list that does not flicker through half-typed words.
  // The site's box waited 120 ms before: 20 ms more goes unnoticed.
  var DEBOUNCE_MS = 140;
  // Safari fires compositionend before the keydown of the Enter that ended
  // it: a key this soon after compositionend is still the IME's.
  var IME_ENTER_MS = 60;

  // ----------------------------------------------------------- elements

  // h("a", {"class": "x", href: url, text: "…"}, [child, "text", null]):
  // attributes (null and false left out, true as ""), `text` as textContent,
  // children as nodes (strings as text nodes).  Nothing is parsed as HTML.
  function fill(e, attrs, children) {
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {  // own keys only: a page may extend Object.prototype
        var v = attrs[k];
        if (v == null || v === false) return;
        if (k === "text") e.textContent = v;
        else e.setAttribute(k, v === true ? "" : String(v));
      });
    }
    (children || []).forEach(function (c) {
      if (c != null && c !== false) e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return e;
  }

  function h(tag, attrs, children) {
    return fill(document.createElement(tag), attrs, children);
  }

  // The same in a namespace (SVG).
  function hNS(ns, tag, attrs, children) {
    return fill(document.createElementNS(ns, tag), attrs, children);
  }

  // ----------------------------------------------------------- requests

  // Only the newest request counts.  start() aborts the one before and gives
  // a ticket: {signal} for fetch, {live()} false once another request starts
  // or cancel() is called.  current() is a ticket of the request already
  // running (for follow-ups that must die with it) without aborting it.
  function Latest() {
    this.n = 0;
    this.controller = null;
  }

  Latest.prototype.start = function () {
    this.cancel();
    this.controller = window.AbortController ? new AbortController() : null;
    var ticket = this.current();
    ticket.signal = this.controller ? this.controller.signal : undefined;
    return ticket;
  };

  Latest.prototype.current = function () {
    var self = this, n = this.n;
    return { live: function () { return self.n === n; } };
  };

  Latest.prototype.cancel = function () {
    this.n++;
    if (this.controller) this.controller.abort();
    this.controller = null;
  };

  // GET a JSON answer: {ok, status, body} (body null when it is not JSON);
  // rejects when no answer the page may read came (network, CORS, abort).
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

  // ------------------------------------------------------------- keys

  // Ctrl+K (Cmd+K on a Mac): the search shortcut of both boxes.
  function isHotkey(e) {
    return (e.key === "k" || e.key === "K") && (e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey;
  }

  // Calls fn() when the shortcut is pressed anywhere on the page, unless the
  // page handled the key already or an IME is composing.
  function onHotkey(fn) {
    document.addEventListener("keydown", function (e) {
      if (e.defaultPrevented || e.isComposing || !isHotkey(e)) return;
      e.preventDefault();
      fn();
    });
  }

  // ---------------------------------------------------------- combobox

  // `input` (role=combobox) and `list` (role=listbox), with options:
  //   run():     fetch and show the options for the input's value (called
  //              after the debounce, or at once with schedule(true));
  //   keys:      {Enter: fn(e, item), Escape: fn(e, item), …} for the keys
  //              the combobox leaves to its owner (arrows are its own while
  //              options are shown), never called for an IME's key;
  //   idPrefix:  the options' ids ("zs-opt-" → zs-opt-0, zs-opt-1, …).
  // Options are objects of the owner's ({url}, {kind, query}…); add() gives
  // each its element (item.el).
  function Combobox(input, list, options) {
    var self = this;
    this.input = input;
    this.list = list;
    this.run = options.run;
    this.keys = options.keys || {};
    this.idPrefix = options.idPrefix;
    this.items = [];
    this.active = -1;
    this.timer = null;
    this.composing = false;
    this.compositionEndedAt = 0;
    this.requests = new Latest();

    input.addEventListener("compositionstart", function () { self.composing = true; });
    input.addEventListener("compositionend", function () {
      self.composing = false;
      self.compositionEndedAt = Date.now();
      self.schedule();
    });
    input.addEventListener("input", function (e) {
      if (self.composing || e.isComposing) return;  // pinyin being typed: wait for the characters
      self.schedule();
    });
    input.addEventListener("keydown", function (e) { self.onKey(e); });
  }

  // A key that belongs to the input method: one pressed while it composes
  // (isComposing, keyCode 229), or just after (IME_ENTER_MS).
  Combobox.prototype.imeKey = function (e) {
    return this.composing || e.isComposing || e.keyCode === 229 ||
      Date.now() - this.compositionEndedAt < IME_ENTER_MS;
  };

  Combobox.prototype.onKey = function (e) {
    if (this.imeKey(e)) return;
    var n = this.items.length;
    if ((e.key === "ArrowDown" || e.key === "ArrowUp") && n) {
      e.preventDefault();
      var i = this.active;
      this.setActive(e.key === "ArrowDown" ? (i + 1) % n : (i <= 0 ? n - 1 : i - 1));
      return;
    }
    var own = Object.prototype.hasOwnProperty.call(this.keys, e.key) ? this.keys[e.key] : null;
    if (own) own(e, this.current());
  };

  // Run after the reader pauses (or at once: `now`), once.
  Combobox.prototype.schedule = function (now) {
    var self = this;
    clearTimeout(this.timer);
    this.timer = setTimeout(function () {
      self.timer = null;
      self.run();
    }, now ? 0 : DEBOUNCE_MS);
  };

  // Whether a run is waiting for the reader to pause.
  Combobox.prototype.pending = function () {
    return this.timer !== null;
  };

  // No run waiting, no request running: an answer still on its way is dropped.
  Combobox.prototype.stop = function () {
    clearTimeout(this.timer);
    this.timer = null;
    this.requests.cancel();
  };

  Combobox.prototype.expanded = function (on) {
    this.input.setAttribute("aria-expanded", on ? "true" : "false");
  };

  // No options: the list is emptied.
  Combobox.prototype.clear = function () {
    this.list.textContent = "";
    this.items = [];
    this.active = -1;
    this.input.removeAttribute("aria-activedescendant");
  };

  // `li` becomes an option for `item` and is appended to the list; returns
  // its index.
  Combobox.prototype.add = function (li, item) {
    var self = this;
    fill(li, { id: this.idPrefix + this.items.length, role: "option", "aria-selected": "false" });
    li.addEventListener("mousemove", function () {
      var i = self.items.indexOf(item);
      if (i >= 0 && self.active !== i) self.setActive(i);
    });
    item.el = li;
    this.items.push(item);
    this.list.appendChild(li);
    return this.items.length - 1;
  };

  // Removes the last option (its element too) and returns it.
  Combobox.prototype.pop = function () {
    var item = this.items.pop();
    if (!item) return null;
    item.el.remove();
    if (this.active >= this.items.length) {
      this.active = -1;
      this.input.removeAttribute("aria-activedescendant");
    }
    return item;
  };

  Combobox.prototype.current = function () {
    return this.items[this.active] || null;
  };

  Combobox.prototype.setActive = function (i) {
    var old = this.current();
    if (old) old.el.setAttribute("aria-selected", "false");
    this.active = i;
    var item = this.current();
    if (item) {
      item.el.setAttribute("aria-selected", "true");
      this.input.setAttribute("aria-activedescendant", item.el.id);
      item.el.scrollIntoView({ block: "nearest" });
    } else {
      this.input.removeAttribute("aria-activedescendant");
    }
  };

  return {
    Combobox: Combobox,
    Latest: Latest,
    getJSON: getJSON,
    h: h,
    hNS: hNS,
    isHotkey: isHotkey,
    onHotkey: onHotkey
  };
}
