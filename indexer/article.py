"""Reading one markdown article: bytes → front matter + plain-text sections.

Real sites are messy (CRLF, BOMs, GBK files, ``---`` rules that are not front
matter, ``tags: [null]``, dates as strings), so every field is read
defensively.  A file that cannot be decoded or is not text raises
:class:`ArticleError` with a reason the indexer reports next to the path;
recoverable oddities (broken YAML, an unparseable date) become *warnings* and
the article is still indexed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

import frontmatter
import pyromark
import yaml

from .anchors import DEFAULT_STYLE, AnchorStyle, Slugger, drop_emoji_shortcodes, smartypants
from .anchors import slug as anchor_slug
from .permalinks import PageFacts, article_url, unpublished
from .site import SiteConfig, site_for_style

MARKDOWN_SUFFIXES = (".md", ".markdown")
#: Files larger than this are not articles (generated dumps, logs).
MAX_ARTICLE_BYTES = 8 * 1024 * 1024


class ArticleError(Exception):
    """The file cannot be indexed; the message says why."""


@dataclass
class Section:
    """A heading and the plain text under it (up to the next heading)."""

    heading: str
    anchor: str
    level: int
    text: str


@dataclass
class Article:
    path: str  # relative to the corpus root, with "/"
    title: str
    description: str
    keywords: list[str]
    tags: list[str]
    categories: list[str]
    date: dt.datetime | None  # None: nobody dated it (see parse_article)
    permalink: str
    sections: list[Section]
    code: str
    content_hash: str
    mtime_ns: int
    size: int
    warnings: list[str] = field(default_factory=list)
    #: why the site's generator publishes no page for it (a draft), or None
    unpublished: str | None = None
    links: int = 0  # links in its text
    link_chars: int = 0  # characters of their text

    @property
    def overview(self) -> bool:
        """Is it mostly a list of links to other pages (a folder's or a
        site's table of contents, a list of supported models)?  Such a page
        names every topic it links to, in passing."""
        return self.links >= OVERVIEW_MIN_LINKS and self.link_chars >= OVERVIEW_LINK_SHARE * len(self.body)

    @property
    def body(self) -> str:
        return "\n".join(s.text for s in self.sections if s.text)

    @property
    def headings(self) -> str:
        return "\n".join(s.heading for s in self.sections if s.heading)


def is_markdown(path: Path) -> bool:
    return path.suffix.lower() in MARKDOWN_SUFFIXES


# ---------------------------------------------------------------- decoding

#: A text file may carry a few stray NUL bytes (a documentation site's page
#: had 3 in 14 KB); more than this many per KiB (and at least this many in
#: all) is a binary file, or UTF-16, which is not read either.
MAX_STRAY_NULS_PER_KIB = 1
MIN_STRAY_NULS = 8


def decode(raw: bytes) -> tuple[str, str | None]:
    """Bytes → text: UTF-8 (with or without BOM), else GB18030.

    Returns ``(text, warning)``.  Raises :class:`ArticleError` for binary data.
    A few stray NUL bytes in otherwise valid UTF-8 are dropped with a
    warning rather than losing the article; NUL bytes in anything else (or
    many of them) mean a binary file.
    """
    nuls = raw.count(b"\x00")
    if nuls:
        if nuls > max(MIN_STRAY_NULS, MAX_STRAY_NULS_PER_KIB * len(raw) // 1024):
            raise ArticleError("binary file (contains NUL bytes)")
        try:
            text = raw.replace(b"\x00", b"").decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ArticleError("binary file (contains NUL bytes)") from None
        return text, f"{nuls} stray NUL byte{'s' if nuls > 1 else ''} dropped"
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        text = raw.decode("utf-8", errors="replace")
        if text.count("\ufffd") > max(8, len(text) // 100):
            raise ArticleError("not UTF-8 or GB18030 text (undecodable bytes)") from None
        return text, "invalid UTF-8 bytes replaced"
    return text, "decoded as GB18030"


# ------------------------------------------------------------ front matter

_FM_RE = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)


def split_front_matter(text: str) -> tuple[dict[str, Any], str, str | None]:
    """Split YAML front matter from the body.

    Only a ``---`` on the very first line opens front matter (a ``---`` after
    blank lines is a horizontal rule).  Broken YAML keeps the body and returns
    a warning instead of losing the article.
    """
    m = _FM_RE.match(text)
    if not m:
        return {}, text, None
    try:
        post = frontmatter.loads(text)
        if post.metadata:  # the common case: the block was read once, as a mapping
            return dict(post.metadata), post.content, None
        block = yaml.safe_load(m.group(1) or "")  # empty, or not a mapping?
        if block is not None and not isinstance(block, dict):
            # "---", a line of text, "---": two horizontal rules, not metadata
            return {}, text, None
        return {}, post.content, None
    except Exception as exc:  # PyYAML raises AttributeError, KeyError... on odd explicit tags
        body = _FM_RE.sub("", text, count=1)
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return {}, body, f"front matter ignored (invalid YAML: {reason})"


MAX_LIST_VALUES = 1000


def _as_list(value: Any, _seen: set | None = None, _out: list | None = None) -> list[str]:
    """``None`` / str / list / number → list of non-empty strings.

    YAML aliases can make a list contain itself or expand exponentially: each
    list is visited once and at most ``MAX_LIST_VALUES`` values are kept."""
    if value is None:
        return []
    if isinstance(value, (list, tuple, set)):
        seen = set() if _seen is None else _seen
        items = [] if _out is None else _out
        if id(value) in seen:
            return items
        seen.add(id(value))
        for v in value:
            if len(items) >= MAX_LIST_VALUES:
                break
            if isinstance(v, (list, tuple, set)):
                _as_list(v, seen, items)
            else:
                items.extend(_as_list(v))
        return items
    if isinstance(value, dict):
        return []
    s = str(value).strip()
    return [s] if s else []


_LIST_SPLIT_RE = re.compile(r"\s*[,，、;；]\s*")


def _split_words(values: list[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        out.extend(p for p in _LIST_SPLIT_RE.split(v) if p)
    return out


def _dedupe(values: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for v in values:
        key = unicodedata.normalize("NFKC", v).lower()
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


def _first(meta: dict[str, Any], *names: str) -> Any:
    for n in names:
        v = meta.get(n)
        if v not in (None, "", [], {}):
            return v
    return None


def _meta_keywords(meta: dict[str, Any]) -> list[str]:
    """``keywords`` plus ``meta``/``head`` entries named keywords (VuePress)."""
    found = _as_list(meta.get("keywords"))
    for entry in _as_list_raw(meta.get("meta")):
        if isinstance(entry, dict) and str(entry.get("name", "")).lower() == "keywords":
            found.extend(_as_list(entry.get("content")))
    for entry in _as_list_raw(meta.get("head")):
        # VuePress: head: [[meta, {name: keywords, content: ...}]]
        if isinstance(entry, (list, tuple)) and len(entry) >= 2 and isinstance(entry[1], dict):
            attrs = entry[1]
            if str(attrs.get("name", "")).lower() == "keywords":
                found.extend(_as_list(attrs.get("content")))
    return _dedupe(_split_words(found))


def _as_list_raw(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value)
    return []


_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M",
    "%Y-%m-%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y.%m.%d",
    "%Y年%m月%d日", "%Y-%m", "%Y",
)


def parse_date(value: Any) -> dt.datetime | None:
    """A front matter date in any common shape → naive datetime, or None."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 1900 <= value <= 2200:
            return dt.datetime(int(value), 1, 1)
        try:
            return dt.datetime.fromtimestamp(value, dt.UTC).replace(tzinfo=None)
        except (OverflowError, OSError, ValueError):
            return None
    s = str(value).strip()
    if not s:
        return None
    try:
        return dt.datetime.fromisoformat(s.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        pass
    s2 = re.sub(r"\s*[+-]\d{2}:?\d{2}$", "", s)
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(s2, fmt)
        except ValueError:
            continue
    return None


# ------------------------------------------------------------- markdown

#: CommonMark with GitHub's tables and strikethrough, parsed by pulldown-cmark
#: (``pyromark``): 7x faster than markdown-it-py, the same sections on 2,679 of
#: the development corpus's 2,690 articles (the rest differ in how code spans
#: inside raw HTML read).  The article page renders with markdown-it-py.
_MD_OPTIONS = pyromark.Options.ENABLE_TABLES | pyromark.Options.ENABLE_STRIKETHROUGH
#: Inline containers: their text belongs to the block around them.
#: An article with this many links or more, whose link text is this share of
#: its text or more, is an overview (``Article.overview``): measured on the
#: development collections, 0.4 and 0.5 rank alike, 0.3 takes real articles
#: with long reading lists.
OVERVIEW_MIN_LINKS = 10
OVERVIEW_LINK_SHARE = 0.4

_INLINE_SPANS = frozenset({"Emphasis", "Strong", "Strikethrough", "Link", "Image", "Superscript", "Subscript"})

_URL_RE = re.compile(r"(?:https?|ftp)://[^\s<>\"'）)\]】]+|www\.[a-z0-9-]+\.[a-z]{2,}[^\s<>\"')）\]]*", re.I)
_TAG_RE = re.compile(r"<!--(?:(?!<!--).)*?-->|<(script|style)\b(?:(?!<(?:script|style)\b).)*?</\1\s*>|<[^<>]*>", re.S | re.I)
_SHORTCODE_RE = re.compile(r"\{\{[<%](?:(?!\{\{).)*?[%>]\}\}", re.S)
# Hexo tag plugins ({% note info %}, {% endnote %}, {% asset_img a.png 标题 %}):
# the tags go, what is between a pair stays.  Same discipline as shortcodes:
# a tag never spans another's "{%", so the scan from each "{%" is bounded.
_HEXO_TAG_RE = re.compile(r"\{%(?:(?!\{%).)*?%\}", re.S)
# <Badge text="新" type="tip" />: the text it shows (VuePress, VitePress)
_BADGE_RE = re.compile(r"<Badge\b[^<>]*?\btext\s*=\s*([\"'])([^\"'<>]*)\1[^<>]*>", re.I)
# Lines that are markup of a site generator, not text (whole lines only):
#   ::: tip 标题 / ::: details / :::: code-group / :::   (VuePress, VitePress containers)
#   @tab pnpm                                          (vuepress-theme-hope's tabs)
#   [[toc]] / @[toc] / [toc]                           (tables of contents)
# A container keeps its title, loses its markers and type word.
_CONTAINER_LINE_RE = re.compile(r"^[ \t]*:{3,}[ \t]*(?:[A-Za-z][\w-]*(?:#[\w-]+)?(?![^\s{]))?(.*)$")
_TAB_LINE_RE = re.compile(r"^[ \t]*@tab(?::active)?\b[ \t]*(.*)$")
_TOC_LINE_RE = re.compile(r"^[ \t]*(?:\[\[toc\]\]|@\[toc\]|\[toc\])[ \t]*$", re.I)
_DIRECTIVE_RE = re.compile(r":(?:label|numref|eqref|ref|cite|width|begin_tab|end_tab|citet|citep):`?[^`\s]*`?")
_HEADING_ID_RE = re.compile(r"\s*\{#([^}\s]+)\}\s*$")
_WS_RE = re.compile(r"[ \t\u3000]+")
# TeX: display math is dropped whole, inline math keeps its letters and
# digits but loses control words (\mathbf, \frac) that would flood the
# vocabulary of every d2l-style article.
_DISPLAY_MATH_RE = re.compile(r"\$\$.*?\$\$", re.S)
_TEX_COMMAND_RE = re.compile(r"\\[A-Za-z]+")


def slugify(heading: str, style: AnchorStyle = DEFAULT_STYLE) -> str:
    """A heading's anchor as the site generator (``style``) makes it; see
    :mod:`indexer.anchors`."""
    return anchor_slug(heading, style)


def clean_text(text: str, html: bool = True) -> str:
    """Remove URLs, shortcodes, directives and (with ``html``) HTML tags.

    Paragraph text from the markdown parser is already free of real HTML (it
    comes as separate events), so it is cleaned with ``html=False``:
    ``Map<String>`` in inline code or an escaped ``&lt;script&gt;`` is text,
    not markup.
    """
    if html:
        if "<Badge" in text or "<badge" in text:
            text = _BADGE_RE.sub(r" \2 ", text)
        text = _TAG_RE.sub(" ", text)
    if "{%" in text:
        text = _HEXO_TAG_RE.sub(" ", text)
    if ":" in text or "@" in text or "[" in text:
        text = strip_markup_lines(text)
    text = _DISPLAY_MATH_RE.sub(" ", text)
    if "$" in text:
        text = _TEX_COMMAND_RE.sub(" ", text)
    text = _SHORTCODE_RE.sub(" ", text)
    text = _DIRECTIVE_RE.sub(" ", text)
    text = _URL_RE.sub(" ", text)
    return _WS_RE.sub(" ", text).strip()


def strip_markup_lines(text: str) -> str:
    """Drop the lines that are a site generator's markup (container markers,
    tab markers, table-of-contents macros), keeping a container's title:
    ``::: tip 提示`` → ``提示``, ``:::`` → nothing.  Line by line, each line
    matched once from its start: linear in the text."""
    if ":::" not in text and "@tab" not in text and "toc]" not in text.lower():
        return text
    out = []
    for line in text.split("\n"):
        m = _CONTAINER_LINE_RE.match(line) if ":::" in line else None
        if m is None and "@tab" in line:
            m = _TAB_LINE_RE.match(line)
        if m is not None:
            line = m.group(1).strip()
        elif "toc]" in line.lower() and _TOC_LINE_RE.match(line):
            line = ""
        if line:
            out.append(line)
    return "\n".join(out)


def badge_text(html: str) -> str:
    """The text a ``<Badge text="…"/>`` tag shows, or "" for any other tag."""
    m = _BADGE_RE.match(html.strip()) if html.lstrip()[:6].lower() == "<badge" else None
    return m.group(2) if m else ""


def strip_shortcodes(text: str) -> str:
    """Drop Hugo shortcodes (``{{< … >}}``, ``{{% … %}}``), in linear time
    even on adversarial input (a shortcode never spans another's ``{{``)."""
    return _SHORTCODE_RE.sub(" ", text)


def strip_custom_id(text: str) -> str:
    """``Title {#my-id}`` → ``Title``."""
    return _HEADING_ID_RE.sub("", text)


def _heading(raw: str) -> tuple[str, str | None]:
    """A heading's plain text and its custom anchor (``## Title {#my-id}``)."""
    m = _HEADING_ID_RE.search(raw)
    if not m:
        return clean_text(raw, html=False), None
    return clean_text(raw[: m.start()], html=False), m.group(1)


def _entity_as_written(written: str, value: str) -> str:
    """VitePress's id text of a character the source wrote as an entity or
    an escape (``&amp;`` stays ``&amp;``, ``\\&`` becomes ``&amp;``)."""
    if written.startswith("&") and written.endswith(";"):
        return written
    if written == "\\&":
        return "&amp;"
    return value


_ATX_OPEN_RE = re.compile(r"^ {0,3}#{1,6}(?=[ \t]|$)")
_ATX_CLOSE_RE = re.compile(r"[ \t]+#+[ \t]*$|^#+[ \t]*$")


def heading_source_line(block: str) -> str:
    """The text of a heading as written in the source, as goldmark reads it
    for an id: an ATX heading's line without its ``#`` marks, a setext
    heading's last line of text."""
    lines = [ln for ln in block.split("\n") if ln.strip()]
    if not lines:
        return ""
    first = lines[0]
    if _ATX_OPEN_RE.match(first):
        return _ATX_CLOSE_RE.sub("", _ATX_OPEN_RE.sub("", first)).strip()
    text = [ln for ln in lines if not re.match(r"^ {0,3}(?:=+|-+)[ \t]*$", ln)]
    return text[-1].strip() if text else ""


def _event_name(value) -> str:
    return value if type(value) is str else next(iter(value))


class Markdown(NamedTuple):
    """What :func:`markdown_sections` reads of an article's body."""

    sections: list[Section]
    code: str  # the code blocks' text
    first_h1: str | None
    links: int  # links in the text (headings' links left out)
    link_chars: int  # characters of those links' text


def markdown_sections(body: str, anchors: AnchorStyle = DEFAULT_STYLE,
                      smart_quotes: bool = False) -> Markdown:
    """Markdown → sections, code text, first H1 heading or None, and how much
    of the text is links (:class:`Markdown`).

    Every leaf block (paragraph, table cell, tight list item, heading) gives
    one line of plain text: its text and inline code, link text and image
    alt text; breaks become line breaks; inline HTML and every URL target is
    dropped.  Raw HTML blocks keep their text without the tags.  Code blocks
    go to the code text.  Headings open sections; ``anchors`` is how the site
    generator makes their ids (see :mod:`indexer.anchors`), from what those
    generators read of a heading: its text and inline code, not image alt
    text, not HTML, without breaks; ``smart_quotes``: the generator turns
    ``--`` and quotes of the heading's text into typographic ones first
    (Hexo's marked renderer, :func:`indexer.anchors.smartypants`).
    """
    body = strip_shortcodes(body)
    body = _DISPLAY_MATH_RE.sub("\n", body)
    slugger = Slugger(anchors)
    # Hugo (goldmark) makes an id from the heading's source line, as written:
    # entities, link targets and HTML included; it needs the events' ranges
    # (VitePress: the entities of a heading as written, which also needs the ranges)
    source = body.encode("utf-8") if slugger.style.reads_source or slugger.style.keeps_entities else None
    reader = _SectionReader(slugger, smart_quotes, source)
    inline = reader.inline  # the text of the current leaf block: most events add to it
    span = None
    stream = (pyromark.events_with_range(body, options=_MD_OPTIONS) if source is not None
              else pyromark.events(body, options=_MD_OPTIONS))
    for event in stream:
        if source is not None:
            event, span = event
            if type(event) is not str and "Start" in event and _event_name(event["Start"]) == "Heading":
                reader.heading_span = span
        if type(event) is str:  # SoftBreak, HardBreak, Rule
            if event in ("SoftBreak", "HardBreak"):
                (reader.raw if reader.capturing else inline).append("\n")
            else:
                reader.end_block()
            continue
        ((kind, value),) = event.items()
        if kind in ("Text", "Code"):
            if reader.capturing:
                reader.captured_text(kind, value, span)
            else:
                inline.append(value)
                if reader.in_link:
                    reader.link_chars += len(value)
        elif kind == "Html":  # inside an HTML block
            reader.raw.append(value)
        elif kind == "InlineHtml":
            reader.inline_html(value)
        elif kind == "Start":
            reader.start(value)
        elif kind == "End":
            reader.end(value)
        # footnotes, task markers and math are not enabled
    return reader.finish()


def site_sections(body: str, site: SiteConfig) -> Markdown:
    """:func:`markdown_sections` with the heading ids of ``site``'s generator
    and settings (Hexo's smartypants)."""
    smart = bool(site.hexo and site.hexo.smartypants and site.anchors.reads_html)
    return markdown_sections(body, site.anchors, smart)


class _SectionReader:
    """What :func:`markdown_sections` keeps while it reads a document's
    events: the sections so far, the text of the block being read, and the
    heading, code or HTML block being captured."""

    def __init__(self, slugger: Slugger, smart_quotes: bool, source: bytes | None) -> None:
        self.slugger = slugger
        self.style = slugger.style
        self.smart_quotes = smart_quotes
        self.source = source  # the document's bytes, when anchors need what a heading's source says
        self.sections: list[Section] = [Section("", "", 0, "")]
        self.blocks: list[list[str]] = [[]]  # each section's lines of text
        self.code: list[str] = []
        self.first_h1: str | None = None
        self.inline: list[str] = []  # text of the current leaf block
        self.raw: list[str] = []  # text of the current heading, code or HTML block
        self.slug_text: list[str] = []  # what the site generator slugifies of the current heading
        self.capturing: str | None = None  # "Heading", "CodeBlock" or "HtmlBlock"
        self.in_image = 0
        self.in_link = 0
        self.links = 0  # links in the text (not in headings)
        self.link_chars = 0  # characters of their text
        self.level = 0
        self.heading_span: dict | None = None  # the source range of the current heading

    def end_block(self) -> None:
        inline = self.inline
        if inline:
            text = clean_text("".join(inline), html=False)
            if text:
                self.blocks[-1].append(text)
            inline.clear()

    def captured_text(self, kind: str, value: str, span: dict | None) -> None:
        """Text or inline code inside a heading, code or HTML block."""
        self.raw.append(value)
        if self.capturing != "Heading" or self.in_image:
            return
        if self.smart_quotes and kind == "Text":
            value = smartypants(value)
        elif self.source is not None and kind == "Text" and len(value) == 1 and value in "&<>\"'\xa0":
            value = _entity_as_written(self.source[span["start"]:span["end"]].decode("utf-8", "replace"), value)
        elif self.style.emoji_shortcodes and kind == "Text":
            value = drop_emoji_shortcodes(value)
        self.slug_text.append(value)

    def inline_html(self, value: str) -> None:
        """Inline HTML is dropped, but a ``<Badge text="…"/>`` shows its text
        (and Hexo slugs a heading's HTML, then strips it)."""
        shown = badge_text(value)
        if self.capturing == "Heading":
            if shown:
                self.raw.append(f" {shown} ")
            if self.style.reads_html and not self.in_image:
                self.slug_text.append(value)
        elif shown and not self.capturing:
            self.inline.append(f" {shown} ")

    def start(self, value) -> None:
        name = _event_name(value)
        if name in _INLINE_SPANS:
            self.in_image += name == "Image"
            if name == "Link" and not self.capturing:
                self.links += 1
                self.in_link += 1
            return
        self.end_block()
        if name in ("Heading", "CodeBlock", "HtmlBlock"):
            self.capturing, self.raw, self.slug_text = name, [], []
            if name == "Heading":
                self.level = int(value["Heading"]["level"][1:])

    def end(self, value) -> None:
        name = _event_name(value)
        if name in _INLINE_SPANS:
            self.in_image -= name == "Image"
            if name == "Link" and self.in_link:
                self.in_link -= 1
            return
        if name == "Heading":
            self._end_heading()
        elif name == "CodeBlock":
            self.code.append("".join(self.raw))
        elif name == "HtmlBlock":
            text = clean_text("".join(self.raw))
            if text:
                self.blocks[-1].append(text)
        else:
            self.end_block()
        if name == self.capturing:
            self.capturing = None

    def _end_heading(self) -> None:
        """A heading opens a section, with the id the site generator gives it."""
        slugger, style = self.slugger, self.style
        heading, custom = _heading("".join(self.raw))  # "{#id}" is never shown...
        if not style.custom_ids:  # ...but only some generators make it the id
            custom = None
        if self.level == 1 and self.first_h1 is None and heading:
            self.first_h1 = heading
        if custom:
            anchor = slugger.reserve(custom)
        elif style.reads_source and self.heading_span is not None:
            span = self.heading_span
            line = self.source[span["start"]:span["end"]].decode("utf-8", "replace")
            anchor = slugger.anchor(strip_custom_id(heading_source_line(line)))
        elif style.custom_ids:
            anchor = slugger.anchor(strip_custom_id("".join(self.slug_text)))
        else:
            anchor = slugger.anchor("".join(self.slug_text))
        self.sections.append(Section(heading, anchor, self.level, ""))
        self.blocks.append([])

    def finish(self) -> Markdown:
        self.end_block()
        for sec, blk in zip(self.sections, self.blocks, strict=True):
            sec.text = "\n".join(blk)
        sections = [s for s in self.sections if s.heading or s.text]
        return Markdown(sections, "\n".join(self.code), self.first_h1, self.links, self.link_chars)


# --------------------------------------------------------------- articles

def read_article(path: Path, root: Path, anchors: AnchorStyle = DEFAULT_STYLE,
                 site: SiteConfig | None = None) -> Article:
    """Read and parse one article; raises :class:`ArticleError` when it can't."""
    rel = path.relative_to(root).as_posix()
    try:
        st = path.stat()
        if st.st_size > MAX_ARTICLE_BYTES:
            raise ArticleError(f"too large ({st.st_size // 1024} KiB > {MAX_ARTICLE_BYTES // 1024} KiB)")
        raw = path.read_bytes()
    except ArticleError:
        raise
    except OSError as exc:
        raise ArticleError(f"cannot read: {exc.strerror or exc}") from exc
    return parse_article(raw, rel, mtime_ns=st.st_mtime_ns, anchors=anchors, site=site)


#: Front matter keys of the date an article was written, then of its last update.
DATE_KEYS = ("date", "Date", "created")
UPDATED_KEYS = ("updated", "Updated", "lastmod", "lastMod", "last_modified_at", "modified")


def parse_article(raw: bytes, rel: str, *, mtime_ns: int = 0, anchors: AnchorStyle = DEFAULT_STYLE,
                  fallback_date: dt.datetime | None = None, site: SiteConfig | None = None) -> Article:
    """Parse article bytes; ``rel`` is its corpus-relative path.

    The date is the front matter's ``date`` (or ``created``), else its
    ``updated``/``lastmod``, else ``fallback_date`` (what the indexer knows
    from git), else None: an article nobody dated has no date, rather than
    the time its file happened to be copied.  ``site`` is the site the
    article belongs to (its generator decides the URL and the heading ids);
    without one, ``anchors`` names the generator by its heading-id style."""
    if site is None:
        site = site_for_style(anchors)
    anchors = site.anchors
    warnings: list[str] = []
    text, warn = decode(raw)
    if warn:
        warnings.append(warn)
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    meta, body, warn = split_front_matter(text)
    if warn:
        warnings.append(warn)
    try:
        md = site_sections(body, site)
    except Exception as exc:  # markdown-it is robust, but never lose the corpus over one file
        raise ArticleError(f"markdown parse failed: {exc}") from exc

    title = " ".join(_as_list(_first(meta, "title", "Title")))
    if not title:
        title = md.first_h1 or PurePosixPath(rel).stem
    # Titles are kept as written (escaped at display time): stripping markup
    # from them would hide what the author typed.
    title = _WS_RE.sub(" ", title).strip() or PurePosixPath(rel).stem
    description = clean_text(" ".join(_as_list(_first(meta, "description", "summary", "Description"))))
    tags = _dedupe(_split_words(_as_list(_first(meta, "tags", "tag", "Tags"))))
    categories = _dedupe(_split_words(_as_list(_first(meta, "categories", "category", "Categories"))))
    keywords = _meta_keywords(meta)

    date = None
    for keys in (DATE_KEYS, UPDATED_KEYS):
        date_value = _first(meta, *keys)
        date = parse_date(date_value)
        if date is not None:
            break
        if date_value is not None:
            warnings.append(f"unreadable date {str(date_value)[:40]!r}, ignored")
    if date is None:
        date = fallback_date

    facts = PageFacts(rel, meta, date, title)
    permalink = article_url(site, facts)

    return Article(
        path=rel, title=title, description=description, keywords=keywords,
        tags=tags, categories=categories, date=date, permalink=permalink,
        sections=md.sections, code=md.code, links=md.links, link_chars=md.link_chars,
        content_hash=hashlib.sha256(raw).hexdigest(), mtime_ns=mtime_ns,
        size=len(raw), warnings=warnings, unpublished=unpublished(site, facts),
    )
