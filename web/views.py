"""The HTML pages: home, results and articles.

Everything shown here that comes from an article or a query goes through
Jinja's autoescaping; the only ``|safe`` values are the engine's
``title_html``/``snippet_html`` (escaped text plus ``<mark>``) and article
bodies that went through :mod:`web.render`'s sanitizer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.routing import PathConverter

from indexer import filenames
from indexer.anchors import DEFAULT_STYLE, AnchorStyle
from indexer.article import ArticleError, parse_article
from indexer.folding import strip_bidi
from indexer.site import join_url
from search import bounds
from search.engine import highlight_terms as search_highlight_terms
from search.engine import search
from search.lru import LRU
from search.models import ResultPage
from search.snippets import highlight_title
from search.syntax import MAX_QUERY_CHARS

from . import analytics, render
from .params import SearchParams, parse_search_args
from .state import get_state

log = logging.getLogger(__name__)

bp = Blueprint("pages", __name__)


class ArticlePathConverter(PathConverter):
    """Werkzeug's ``path``, but a newline is part of the path too: an
    article named ``a\nb.md`` lives at ``/a/a%0Ab.md`` (Werkzeug's ``.``
    stops at a newline, which made that link a 404)."""

    regex = "[^/](?s:.)*?"


# registered before any route of this blueprint uses it
bp.record_once(lambda state: state.app.url_map.converters.setdefault("article_path", ArticlePathConverter))

#: Slow searches are worth a line in the log (the engine caps them at 5 s).
SLOW_MS = 500
#: Facet values shown before "更多": long lists bury the results column.
FACET_SHOWN = 8
#: Characters of the query quoted in the page title and the "nothing found" line.
QUERY_SHOWN = 100


# ------------------------------------------------------------------ helpers

def format_date(value: str | dt.datetime | None) -> str:
    if not value:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d")
    return str(value)[:10]


def format_time(value: str | None) -> str:
    """ISO timestamp → ``2024-06-01 12:30`` (the index stores local time)."""
    if not value:
        return "未知"
    try:
        return dt.datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(value)


def format_took(ms: float) -> str:
    if ms >= 1000:
        return f"{ms / 1000:.2f} 秒"
    return f"{ms:.0f} 毫秒" if ms >= 1 else "不到 1 毫秒"


def external_url(base: str, permalink: str, anchor: str | None = None) -> str:
    """``base + permalink`` (+ ``#anchor``), percent-encoded where needed:
    :func:`indexer.site.join_url`, which ``zhsearch check-links`` checks."""
    return join_url(base, permalink, anchor)


def folder_names(path: str) -> list[str]:
    """The folders of an article's key as a person reads them (a GBK folder name decoded)."""
    return [filenames.display(part) for part in PurePosixPath(path).parent.parts]


def article_url(path: str, q: str = "", anchor: str | None = None) -> str:
    url = url_for("pages.article", path=path, q=q or None)
    return url + ("#" + quote(anchor, safe="") if anchor else "")


def search_url(p: SearchParams, *, q: str | None = None, page: int = 1, sort: str | None = None,
               tags: list[str] | None = None, categories: list[str] | None = None) -> str:
    """URL of a results page derived from ``p``; filters and sort are kept, page resets."""
    sort = sort or p.sort
    return url_for(
        "pages.search",
        q=p.q if q is None else q,
        tag=list(p.tags if tags is None else tags),
        category=list(p.categories if categories is None else categories),
        sort=None if sort == "relevance" else sort,
        page=None if page == 1 else page,
    )


def _toggle(values: list[str], value: str) -> list[str]:
    low = value.lower()
    if any(v.lower() == low for v in values):
        return [v for v in values if v.lower() != low]
    return values + [value]


def _is_active(values: list[str], value: str) -> bool:
    low = value.lower()
    return any(v.lower() == low for v in values)


def page_window(page: int, pages: int, width: int = 2) -> list[int | None]:
    """``1 … 4 5 [6] 7 8 … 20``: None marks a gap."""
    shown = {1, pages, *range(max(1, page - width), min(pages, page + width) + 1)}
    out: list[int | None] = []
    prev = 0
    for n in sorted(shown):
        if n - prev > 1:
            out.append(None)
        out.append(n)
        prev = n
    return out


def highlight_terms(q: str) -> list[list[str]]:
    """The words a query highlights, exactly as the engine marks snippets
    (synonyms included), so the article shows what the result promised."""
    if not q.strip():
        return []
    try:
        return search_highlight_terms(get_state().engine, q)
    except Exception:  # highlighting is a nicety; never fail a page for it
        log.exception("cannot compute highlight terms for %r", q)
        return []


# ------------------------------------------------------------------ pages

@bp.route("/")
def home():
    state = get_state()
    stats = state.engine.stats()
    cat = state.catalog.get()
    return render_template(
        "index.html", q="", stats=stats, updated=format_time(stats.get("updated")),
        tags=cat.tags[:16], categories=cat.categories[:10],
        tag_url=lambda v: url_for("pages.search", tag=v),
        category_url=lambda v: url_for("pages.search", category=v),
    )


@dataclass
class FacetLink:
    value: str
    count: int
    active: bool
    url: str


@dataclass
class HitView:
    title_html: str
    snippet_html: str
    url: str
    section: str | None
    section_url: str | None
    crumbs: list[tuple[str, str | None]]  # (label, filter URL or None)
    date: str
    tags: list[tuple[str, str, bool]]  # (tag, toggle URL, active)
    path: str
    local_url: str | None  # /a/ preview when results link to the public site


@bp.route("/search", endpoint="search")
def search_page():
    p = parse_search_args(request.args)
    if p.empty:
        return redirect(url_for("pages.home"))
    state = get_state()
    result = search(state.engine, p.q, page=p.page, per_page=p.per_page, filters=p.filters(), sort=p.sort)
    if result.took_ms > SLOW_MS:
        log.info("slow search %r: %.0f ms", p.q[:200], result.took_ms)
    # a results page is a settled search (Enter, or a link followed); its id goes to the click beacon
    search_id = analytics.record(result, p, analytics.Source.PAGE, analytics.Settled.PAGE)
    typed = p.q
    if len(typed) > MAX_QUERY_CHARS:
        # every link on the page carries the query; the engine reads only its first
        # MAX_QUERY_CHARS characters, so that is what the links carry (not 1,000 characters each)
        p = dataclasses.replace(p, q=result.query)
    hits = [_hit_view(h, p, state.base_url) for h in result.hits]
    facets = {
        "tags": _facet_links(result, "tags", p),
        "categories": _facet_links(result, "categories", p),
    }
    chips = ([("标签", t, search_url(p, tags=_toggle(p.tags, t))) for t in p.tags]
             + [("分类", c, search_url(p, categories=_toggle(p.categories, c))) for c in p.categories])
    effective_sort = p.sort if p.q.strip() else "date"
    return render_template(
        "search.html", q=typed, q_short=bounds.cut(typed, QUERY_SHOWN), p=p, facet_limit=FACET_SHOWN, result=result, hits=hits, facets=facets, chips=chips,
        took=format_took(result.took_ms), pages=result.pages, sort=effective_sort,
        window=page_window(result.page, result.pages),
        page_url=lambda n: search_url(p, page=n),
        sort_url=lambda s: search_url(p, sort=s),
        clear_filters_url=search_url(p, tags=[], categories=[]),
        suggestion_url=search_url(p, q=result.suggestion) if result.suggestion else None,
        popular=state.catalog.get().tags[:8] if not result.total else [],
        tag_url=lambda v: search_url(p, tags=[v], categories=[]),
        beyond_last=result.total > 0 and not result.hits,
        search_id=search_id,
    )


def _facet_links(result: ResultPage, key: str, p: SearchParams) -> list[FacetLink]:
    active_values = p.tags if key == "tags" else p.categories
    links = []
    seen = set()
    for f in getattr(result.facets, key):
        toggled = _toggle(active_values, f.value)
        url = search_url(p, tags=toggled) if key == "tags" else search_url(p, categories=toggled)
        active = _is_active(active_values, f.value)
        seen.add(f.value.lower())
        links.append(FacetLink(f.value, f.count, active, url))
    # an active filter the results no longer report (e.g. no hits) stays removable
    for v in active_values:
        if v.lower() not in seen:
            toggled = _toggle(active_values, v)
            url = search_url(p, tags=toggled) if key == "tags" else search_url(p, categories=toggled)
            links.insert(0, FacetLink(v, 0, True, url))
    links.sort(key=lambda f: not f.active)
    return links


def _hit_view(h, p: SearchParams, base_url: str | None) -> HitView:
    if base_url and h.url:  # (a permalink too long to be a link was dropped: see search.bounds)
        url = external_url(base_url, h.url)
        section_url = external_url(base_url, h.url, h.anchor) if h.anchor else None
        local = article_url(h.path, p.q)
    else:
        url = article_url(h.path, p.q)
        section_url = article_url(h.path, p.q, h.anchor) if h.anchor else None
        local = None
    if h.categories:
        crumbs = [(c, search_url(p, categories=_toggle(p.categories, c)) if not _is_active(p.categories, c)
                   else None) for c in h.categories]
    else:
        crumbs = [(part, None) for part in folder_names(h.path)]
    tags = [(t, search_url(p, tags=_toggle(p.tags, t)), _is_active(p.tags, t)) for t in h.tags]
    return HitView(h.title_html, h.snippet_html, url, h.section, section_url, crumbs,
                   format_date(h.date), tags, h.path, local)


# ---------------------------------------------------------------- articles


def safe_article_file(root: Path, rel: str) -> Path | None:
    """``root/rel`` if it is a regular file inside ``root``; None otherwise.

    ``rel`` is already known to be an indexed path; this is the second lock:
    no absolute paths, no ``..``, and the resolved file (symlinks followed)
    must still be inside the corpus.
    """
    if not rel or "\x00" in rel or rel.startswith(("/", "\\")):
        return None
    if any(part in ("..", ".", "") for part in rel.split("/")):
        return None
    try:
        base = root.resolve()
        full = (base / rel).resolve()
    except (OSError, RuntimeError):
        return None
    if not full.is_relative_to(base) or not full.is_file():
        return None
    return full


@bp.route("/a/<article_path:path>")
def article(path: str):
    state = get_state()
    stored = state.engine.stored(path)
    if stored is None:
        abort(404)
    q = request.args.get("q", "")[:1000]
    terms = highlight_terms(q)
    root = state.corpus_root()
    name = filenames.fs_name(path)  # the key of a GBK-named file is not its file-system name
    file = safe_article_file(root, name)
    missing = False
    meta: dict = {}
    if file is None:
        if (root / name).exists() or (root / name).is_symlink():
            abort(404)  # exists but escapes the corpus (symlink) or is not a file
        missing = True
    art = None
    # the URL and heading ids the index gave the article, with its site's real settings (base
    # path, clean URLs, permalink patterns, Hexo's smartypants): what the results link to.  A
    # re-parse knows only the id style, so it renders the body and nothing more.
    permalink = stored.get("url") or ""
    indexed = [(s[0], s[1]) for s in stored.get("sections") or () if s[0]] or None
    if file is not None:
        try:
            art, meta, rendered = _render_article(state.engine.generation_name(), path, file,
                                                  state.engine.anchor_style(), indexed)
        except (OSError, ArticleError) as exc:
            log.warning("cannot read indexed article %s: %s", path, exc)
            missing = True
    if art is not None and not missing:
        title = art.title
        tags, categories, keywords = art.tags, art.categories, art.keywords
        # the indexed date, so the page agrees with the result list
        description = art.description
        date = format_date(stored.get("date") or art.date)
    else:
        rendered = render.render_stored_sections(stored.get("sections") or [])
        title = stored.get("title_text") or path
        tags, categories, keywords = [], [], []
        description = stored.get("description_text") or ""
        date = format_date(stored.get("date"))
    fold = state.engine.analyzer.fold
    body_html = render.highlight_html(rendered.html, terms, fold) if terms else rendered.html
    author = meta.get("author") if isinstance(meta.get("author"), (str, int, float)) else None
    # nothing on the page is reordered by a bidi override in the article (an RLO in a title);
    # the body and its headings lost theirs when rendered (_render_article), the stored
    # sections when indexed
    title, description = strip_bidi(title), strip_bidi(description)
    tags, categories = [strip_bidi(t) for t in tags], [strip_bidi(c) for c in categories]
    toc = [h for h in rendered.headings if h.level in (2, 3) and h.text]
    return render_template(
        "article.html", q=q, title=title, title_html=highlight_title(title, terms, fold), body_html=body_html,
        rendered=rendered, toc=toc[:60],
        tags=tags, categories=categories, keywords=keywords, description=description, date=date,
        permalink=permalink, author=author, path=filenames.display(path), missing=missing,
        external=external_url(state.base_url, permalink) if state.base_url and permalink else None,
        back_url=url_for("pages.search", q=q) if q.strip() else None,
        plain_url=url_for("pages.article", path=path),
        tag_url=lambda v: url_for("pages.search", tag=v),
        category_url=lambda v: url_for("pages.search", category=v),
    )


_TAG_RE = re.compile(r"(<[^>]*>)")


def _strip_bidi_text(html: str) -> str:
    """Bidi controls out of the text of ``html``, not out of its attributes:
    a heading's id must stay the anchor the site generator made of it."""
    return "".join(part if part.startswith("<") else strip_bidi(part) for part in _TAG_RE.split(html))


RENDER_CACHE_SIZE = 64
_render_cache: LRU[tuple, tuple] = LRU(RENDER_CACHE_SIZE)


def _render_article(generation: str, path: str, file: Path, anchors: AnchorStyle = DEFAULT_STYLE,
                    indexed: list[tuple[str, str]] | None = None):
    """(Article, front matter, RenderedArticle) of a file, cached.

    ``indexed``: the (heading, anchor) pairs the index stored for the
    article, given to its headings (the re-parse's own, made with the bare
    ``anchors`` style, when None); the generation in the cache key stands
    for them.

    A long reference page takes about a second to parse and render; readers
    often open the same few articles, so the last few renderings are kept,
    keyed by the content (a changed file is re-rendered) and the index
    generation (links between articles depend on what is indexed).
    """
    raw = file.read_bytes()
    key = (generation, path, hashlib.sha1(raw).hexdigest(), anchors)
    hit = _render_cache.get(key)
    if hit is not None:
        return hit
    art = parse_article(raw, filenames.article_name(path), mtime_ns=file.stat().st_mtime_ns, anchors=anchors)
    art.path = path
    meta, body = render.split_article(raw)
    rendered = render.render_markdown(body, title=art.title, anchors=anchors,
                                      resolve_link=lambda href: _resolve_link(path, href),
                                      indexed=[(s.heading, s.anchor) for s in art.sections if s.heading]
                                      if indexed is None else indexed)
    # bidi controls out of the text once, not on every request for the page
    rendered = dataclasses.replace(
        rendered, html=_strip_bidi_text(rendered.html),
        headings=[dataclasses.replace(h, text=strip_bidi(h.text)) for h in rendered.headings])
    return _render_cache.put(key, (art, meta, rendered))


def _resolve_link(article_path: str, href: str) -> str | None:
    """Relative links between articles go to their /a/ page when indexed."""
    target = render.resolve_relative(article_path, href)
    if target is None:
        return None
    rel, frag = target
    engine = get_state().engine
    candidates = [rel]
    if not rel.lower().endswith((".md", ".markdown")):
        candidates += [rel.rstrip("/") + ".md", rel.rstrip("/") + "/README.md"]
    for cand in candidates:
        if engine.stored(cand) is not None:
            return url_for("pages.article", path=cand) + (f"#{quote(frag, safe='')}" if frag else "")
    return None
