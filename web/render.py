"""Article markdown → safe HTML for ``/a/<path>``.

Three things matter here, in this order:

1. **Safety.**  Articles come from folders nobody reviewed: raw ``<script>``,
   ``onerror=`` attributes and ``javascript:`` links must never reach the
   browser.  markdown-it renders with raw HTML enabled (real articles use
   ``<details>``, ``<br>``, ``<center>``…), and *everything* it produces then
   goes through nh3 (ammonia) with a small allow-list; our own markup is
   added before sanitizing so it is checked too.  The page's CSP is the second
   line of defence.
2. **Anchors that match the index.**  A search hit links to
   ``#<anchor>`` of the section its snippet came from; that anchor was computed
   by ``indexer.article.markdown_sections``.  Rather than re-implementing its
   rule (custom ``{#id}``, the site generator's slug style and numbering of
   duplicates, its own text cleaning), the renderer asks ``markdown_sections`` for the headings of
   the same body and hands its anchors to this parse's headings in document
   order, checking the heading texts as it goes.
3. **Highlighting without breaking HTML.**  Query words are wrapped in
   ``<mark>`` in text nodes only, after sanitizing, so markup can never be
   split or injected by a highlight.
"""

from __future__ import annotations

import html
import logging
import posixpath
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from indexer.anchors import DEFAULT_STYLE, AnchorStyle
from indexer.article import (
    clean_text,
    decode,
    site_sections,
    slugify,
    split_front_matter,
    strip_custom_id,
    strip_shortcodes,
)
from indexer.site import site_for_style
from indexer.stored import FoldFn, sections_as_written
from search.snippets import Prepared, find_matches, mark

log = logging.getLogger(__name__)

#: Resolves a relative link found in an article to a site URL, or None.
LinkResolver = Callable[[str], "str | None"]


@dataclass
class Heading:
    level: int
    text: str
    anchor: str


@dataclass
class RenderedArticle:
    html: str
    headings: list[Heading] = field(default_factory=list)
    #: id of a leading ``# Title`` that was dropped because the page header
    #: already shows the title; the header takes over the id so links to it work.
    title_anchor: str | None = None


# ---------------------------------------------------------------- reading

def split_article(raw: bytes) -> tuple[dict[str, Any], str]:
    """Bytes → (front matter, markdown body), normalised like the indexer does.

    The body must be byte-for-byte what ``indexer.article.parse_article`` fed
    to ``markdown_sections``, or heading anchors could drift.
    """
    text, _ = decode(raw)
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    meta, body, _ = split_front_matter(text)
    return meta, body


def index_headings(body: str, anchors: AnchorStyle = DEFAULT_STYLE) -> list[tuple[str, str]]:
    """(heading, anchor) of every titled section, exactly as an index with
    this anchor style (and its generator's default settings) has them."""
    sections = site_sections(body, site_for_style(anchors)).sections
    return [(s.heading, s.anchor) for s in sections if s.heading]


def _heading_text(inline: Token) -> str:
    """Plain text of a heading as this page's parser (markdown-it-py) sees
    it, cleaned the way the indexer cleans headings, to pair it with the
    index's headings."""
    parts = []
    for child in inline.children or ():
        if child.type in ("text", "code_inline", "image"):  # an image's content is its alt text
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return clean_text(strip_custom_id("".join(parts)), html=False)


def _heading_key(text: str) -> str:
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text)).lower()


def _same_heading(a: str, b: str) -> bool:
    return _heading_key(a) == _heading_key(b)


def assign_anchors(texts: list[str], indexed: list[tuple[str, str]]) -> list[tuple[str, str | None]]:
    """Pair this parse's heading texts with the index's (heading, anchor) list.

    Normally both lists hold the same headings in the same order and the
    pairing is positional.  If they disagree (a heading only one parser
    sees), headings are matched by text, a few positions ahead at most;
    the rest get ``None`` and are given their own slug by the caller.
    """
    titled = [t for t in texts if t]
    if len(titled) == len(indexed):
        it = iter(indexed)
        return [next(it) if t else (t, None) for t in texts]
    out: list[tuple[str, str | None]] = []
    j = 0
    for t in texts:
        match = None
        if t:
            for k in range(j, min(j + 4, len(indexed))):
                if _same_heading(t, indexed[k][0]):
                    match = k
                    break
        if match is None:
            out.append((t, None))
        else:
            out.append(indexed[match])
            j = match + 1
    return out


# ---------------------------------------------------------------- markdown

_CALLOUT_TITLES = {
    "tip": "提示", "info": "信息", "note": "注", "warning": "注意", "caution": "警告",
    "danger": "危险", "important": "重要", "details": "详情",
}


def _render_container(self, tokens: list[Token], idx: int, options, env) -> str:
    """VuePress / VitePress ``::: tip 标题`` blocks as styled callouts.

    Unknown kinds (``::: code-tabs``, ``::: preview``) are plain boxes: their
    content still shows, which is what a reader of the source would expect.
    """
    tok = tokens[idx]
    if tok.nesting != 1:
        return "</details>\n" if tok.meta.get("details") else "</div>\n"
    params = tok.info.strip().split(None, 1)
    kind = params[0].lower() if params else ""
    title = params[1] if len(params) > 1 else _CALLOUT_TITLES.get(kind, "")
    if kind == "details":
        # find the matching close to render it as </details>
        depth = 0
        for t in tokens[idx:]:
            if t.type == tok.type:
                depth += 1
            elif t.type == tok.type.replace("_open", "_close"):
                depth -= 1
                if depth == 0:
                    t.meta["details"] = True
                    break
        return f'<details class="callout"><summary>{escapeHtml(title or "详情")}</summary>\n'
    cls = f"callout callout-{kind}" if kind in _CALLOUT_TITLES else "callout"
    head = f'<p class="callout-title">{escapeHtml(title)}</p>\n' if title else ""
    return f'<div class="{cls}">\n{head}'


def _render_image(self, tokens: list[Token], idx: int, options, env) -> str:
    """Images become a labelled placeholder (a link for web images).

    The site works offline and its CSP only allows same-origin images, so a
    remote ``<img>`` would show as a broken icon; the alt text is the content.
    """
    tok = tokens[idx]
    alt = self.renderInlineAsText(tok.children or [], options, env).strip()
    label = escapeHtml(f"图片：{alt}" if alt else "图片")
    src = tok.attrGet("src") or ""
    if urlsplit(str(src)).scheme in ("http", "https"):
        return f'<a class="img-link" href="{escapeHtml(str(src))}"><span class="img-ph">{label}</span></a>'
    return f'<span class="img-ph">{label}</span>'


def _render_table_open(self, tokens, idx, options, env) -> str:
    return '<div class="table-wrap">\n' + self.renderToken(tokens, idx, options, env)


def _render_table_close(self, tokens, idx, options, env) -> str:
    return self.renderToken(tokens, idx, options, env) + "</div>\n"


def _render_heading_close(self, tokens, idx, options, env) -> str:
    anchor = tokens[idx].meta.get("anchor")
    link = (f'<a class="header-anchor" href="#{escapeHtml(anchor)}" aria-label="本节链接">#</a>'
            if anchor else "")
    return link + self.renderToken(tokens, idx, options, env)


def _render_link_open(self, tokens, idx, options, env) -> str:
    tok = tokens[idx]
    resolve: LinkResolver | None = env.get("resolve_link")
    href = tok.attrGet("href")
    if resolve and href:
        new = resolve(str(href))
        if new:
            tok.attrSet("href", new)
    return self.renderToken(tokens, idx, options, env)


def _make_md() -> MarkdownIt:
    md = (MarkdownIt("commonmark", {"html": True})
          .enable(["table", "strikethrough"])
          .use(footnote_plugin)
          .use(tasklists_plugin)
          .use(container_plugin, name="block", validate=lambda params, *a: bool(params.strip()),
               render=_render_container))
    md.add_render_rule("image", _render_image)
    md.add_render_rule("table_open", _render_table_open)
    md.add_render_rule("table_close", _render_table_close)
    md.add_render_rule("heading_close", _render_heading_close)
    md.add_render_rule("link_open", _render_link_open)
    return md


_MD = _make_md()


# ---------------------------------------------------------------- sanitize

_ALLOWED_TAGS = (set(nh3.ALLOWED_TAGS) - {"img", "area", "map"}) | {"input", "section"}
_ALLOWED_ATTRS: dict[str, set[str]] = {k: set(v) for k, v in nh3.ALLOWED_ATTRIBUTES.items() if k != "img"}
for _tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
    _ALLOWED_ATTRS.setdefault(_tag, set()).add("id")
for _tag, _attrs in {
    "a": {"href", "title", "id", "class", "aria-label"},
    "code": {"class"}, "pre": {"class"}, "div": {"class"}, "span": {"class"}, "p": {"class"},
    "details": {"class", "open"}, "li": {"id", "class"}, "sup": {"id", "class"},
    "ol": {"start", "class"}, "ul": {"class"}, "hr": {"class"}, "section": {"class"},
    "input": {"type", "checked", "disabled", "class"},
    "td": {"class"}, "th": {"class"},
}.items():
    _ALLOWED_ATTRS.setdefault(_tag, set()).update(_attrs)

#: Class names our renderer and plugins produce; anything else an article
#: writes is dropped so it cannot restyle the page chrome.
_CLASS_OK = re.compile(
    r"^(?:language-[\w+#.-]{1,40}|callout(?:-[a-z]+)?|header-anchor|table-wrap|img-ph|img-link"
    r"|footnotes?(?:-[a-z]+)?|footnote-(?:ref|item|backref)|task-list-item(?:-checkbox)?"
    r"|contains-task-list|align-(?:left|right|center))$"
)
_ALIGN_RE = re.compile(r"^text-align:\s*(left|right|center)$")


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    if attr == "class":
        keep = [c for c in value.split() if _CLASS_OK.match(c)]
        return " ".join(keep) or None
    if attr == "id":
        # ids of the page chrome start with "zs-": an article must not shadow them
        return None if value.lower().startswith("zs-") else value
    if tag == "input" and attr == "type":
        return value if value == "checkbox" else None
    return value


def sanitize(fragment: str) -> str:
    """Allow-list sanitizing: structure and text survive, behaviour does not."""
    return nh3.clean(
        fragment,
        tags=_ALLOWED_TAGS,
        clean_content_tags={"script", "style", "iframe", "object", "embed", "noscript", "template",
                            "svg", "math", "textarea", "select"},
        attributes=_ALLOWED_ATTRS,
        attribute_filter=_attribute_filter,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


# ---------------------------------------------------------------- render

def _fold_key(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


def render_markdown(body: str, *, title: str | None = None, resolve_link: LinkResolver | None = None,
                    indexed: list[tuple[str, str]] | None = None,
                    anchors: AnchorStyle = DEFAULT_STYLE) -> RenderedArticle:
    """Render an article body to sanitized HTML with index-compatible anchors.

    ``indexed`` is :func:`index_headings` of ``body`` when the caller already
    has it (``parse_article`` computed the sections); otherwise it is computed
    with the index's ``anchors`` style.
    """
    tokens = _MD.parse(strip_shortcodes(body), {})  # the indexer drops them before parsing too
    heading_idx = [i for i, t in enumerate(tokens) if t.type == "heading_open"]
    texts = [_heading_text(tokens[i + 1]) for i in heading_idx]
    pairs = assign_anchors(texts, index_headings(body, anchors) if indexed is None else indexed)
    used = {a for _, a in pairs if a}
    if any(a is None and t for t, a in pairs):
        log.debug("some headings have no indexed anchor: %s", [t for t, a in pairs if a is None and t])

    out = RenderedArticle(html="")
    drop: set[int] = set()
    first = _first_block(tokens)
    for n, (i, (text, anchor)) in enumerate(zip(heading_idx, pairs, strict=True)):
        if anchor is None:
            anchor = _unique(slugify(text or texts[n], anchors), used)
        tok = tokens[i]
        if anchor:  # a heading of only punctuation has no id in some styles
            tok.attrSet("id", anchor)
        tokens[i + 2].meta["anchor"] = anchor
        _strip_custom_id(tokens[i + 1])
        level = int(tok.tag[1:])
        if (n == 0 and level == 1 and title and i == first and _fold_key(text) == _fold_key(title)):
            drop.update((i, i + 1, i + 2))
            out.title_anchor = anchor
            continue
        out.headings.append(Heading(level, text or texts[n], anchor))
    for tok in tokens:
        # markdown-it aligns table cells with inline styles, which the CSP
        # (style-src 'self') would block: use classes instead
        if tok.type in ("th_open", "td_open"):
            m = _ALIGN_RE.match(str(tok.attrGet("style") or ""))
            if tok.attrs.pop("style", None) is not None and m:
                tok.attrSet("class", f"align-{m.group(1)}")
    if drop:
        tokens = [t for k, t in enumerate(tokens) if k not in drop]
    env: dict[str, Any] = {"resolve_link": resolve_link}
    out.html = sanitize(_MD.renderer.render(tokens, _MD.options, env))
    return out


def _unique(anchor: str, used: set[str]) -> str:
    candidate, n = anchor, 0
    while candidate in used:
        n += 1
        candidate = f"{anchor}-{n}"
    used.add(candidate)
    return candidate


_COMMENT_RE = re.compile(r"\s*(?:<!--.*?-->\s*)+", re.S)


def _first_block(tokens: list[Token]) -> int:
    """Index of the first token that shows something (HTML comments do not)."""
    for i, t in enumerate(tokens):
        if t.type == "html_block" and _COMMENT_RE.fullmatch(t.content):
            continue
        return i
    return -1


def _strip_custom_id(inline: Token) -> None:
    """Remove a trailing ``{#custom-id}`` from the displayed heading text."""
    children = inline.children or []
    for child in reversed(children):
        if child.type == "text":
            child.content = strip_custom_id(child.content)
            break
        if child.content.strip():
            break


def render_stored_sections(sections: list) -> RenderedArticle:
    """Fallback when the source file is gone: the indexed plain text, escaped."""
    parts: list[str] = []
    out = RenderedArticle(html="")
    for heading, anchor, text in sections_as_written(sections):
        if heading:
            a = html.escape(anchor or slugify(heading))
            parts.append(f'<h2 id="{a}">{html.escape(heading)}'
                         f'<a class="header-anchor" href="#{a}" aria-label="本节链接">#</a></h2>')
            out.headings.append(Heading(2, heading, anchor))
        for para in (text or "").split("\n"):
            if para.strip():
                parts.append(f"<p>{html.escape(para)}</p>")
    out.html = sanitize("\n".join(parts))
    return out


# ---------------------------------------------------------------- highlight

# nh3 serialises every attribute value in double quotes, so a tag is "<",
# then anything but ">" outside of double-quoted values, then ">".
_TAG_SPLIT_RE = re.compile(r'(<(?:[^>"]|"[^"]*")*>)')


def highlight_html(fragment: str, terms: list[list[str]], fold: FoldFn) -> str:
    """Wrap the query terms in ``<mark>`` inside the text nodes of safe HTML."""
    if not terms or not any(any(t) for t in terms):
        return fragment
    prepared = Prepared(terms)  # once for the fragment, not once per text node
    parts = _TAG_SPLIT_RE.split(fragment)
    for k in range(0, len(parts), 2):  # even indexes are text between tags
        seg = parts[k]
        if not seg or seg.isspace():
            continue
        text = html.unescape(seg)
        matches = find_matches(text, prepared, fold)
        if matches:
            parts[k] = mark(text, matches)
    return "".join(parts)


def is_safe_relative(href: str) -> bool:
    """A link that stays inside the article tree (no scheme, host or absolute path)."""
    s = urlsplit(href)
    return not s.scheme and not s.netloc and not href.startswith(("/", "#", "\\"))


def resolve_relative(article_path: str, href: str) -> tuple[str, str] | None:
    """``../x/y.md#frag`` next to ``a/b/c.md`` → (``a/x/y.md``, ``frag``)."""
    if not is_safe_relative(href):
        return None
    s = urlsplit(href)
    target = unquote(s.path)
    if not target:
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(article_path), target))
    if joined.startswith("../") or joined == ".." or joined.startswith("/"):
        return None
    return joined, unquote(s.fragment)
