"""An article's URL exactly as its site generator writes it.

Each function below re-implements one generator's rule from its source code
(named in the docstring) and is checked against that generator's real build
of the fixture sites in ``tests/fixtures/sites`` (``tests/test_sites.py``).
URLs are paths from the site's origin, the site's base path included
(``/blog/posts/x/``), unencoded (``/文章/``): the link is percent-encoded
where it is written (:func:`indexer.site.join_url`).

A front-matter ``permalink`` (Hugo: also ``url``) always wins, as the user
wrote it, normalised only as the generator itself does (VuePress 1 adds the
trailing slash it links with; Hexo adds the leading slash); so does a
``slug`` (``folder/slug/``; Hugo: the slug in place of the file name in its
rules), except on Hexo, which overwrites a post's slug with its file name
(``processor/post.js``) and so never publishes one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .anchors import slug_hexo, slug_vuepress
from .site import Generator, HexoOptions, HugoOptions, SiteConfig, content_path


@dataclass(frozen=True)
class PageFacts:
    """What of an article decides its URL (the front matter read as the
    generator reads it, the date as zhsearch resolved it)."""

    rel: str  # path relative to the corpus
    meta: dict[str, Any]
    date: dt.datetime | None
    title: str = ""


def article_url(site: SiteConfig, page: PageFacts) -> str:
    """The URL path of ``page`` on ``site`` (with the site's base path)."""
    rel = content_path(site, page.rel)
    if rel is None:  # outside the generator's content folder: no page; link the file's path
        rel = page.rel
    slug = _meta_str(page.meta, "slug")
    if slug and not _meta_str(page.meta, "permalink") and site.generator not in (Generator.HUGO, Generator.HEXO):
        parts, _stem = _stem_parts(rel)
        path = _folder(parts) + slug.strip("/") + "/"
    else:
        path = _RULES[site.generator](site, rel, page)
    return _with_base(site.base, path)


def _with_base(base: str, path: str) -> str:
    if not path.startswith("/"):
        path = "/" + path
    if base in ("", "/") or path.startswith(base):
        return path
    return base.rstrip("/") + path


def _meta_str(meta: dict[str, Any], key: str) -> str:
    value = meta.get(key)
    if value is None or isinstance(value, (dict, list, tuple, bool)):
        return ""
    return str(value).strip()


def _stem_parts(rel: str) -> tuple[list[str], str]:
    p = PurePosixPath(rel)
    return list(p.parent.parts), p.stem


def _folder(parts: list[str]) -> str:
    """``["a", "b"]`` → ``/a/b/``; ``[]`` → ``/``."""
    return "/" + "".join(part + "/" for part in parts)


# ---------------------------------------------------------------- VuePress

_VUEPRESS_INDEX_RE = re.compile(r"^(index|readme)$", re.I)
_DATE_PREFIX_RE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}-")


def _vuepress1(site: SiteConfig, rel: str, page: PageFacts) -> str:
    """VuePress 1 (``@vuepress/shared-utils`` ``fileToPath`` and
    ``getPermalink``): ``a/b.md`` → ``/a/b.html``, ``README.md``/``index.md``
    → the folder; a ``permalink`` (front matter, else the site's pattern) has
    its ``:year``… placeholders filled and a trailing ``/`` added unless it
    ends in ``/`` or ``.html``."""
    parts, stem = _stem_parts(rel)
    folder = _folder(parts)
    regular = folder if _VUEPRESS_INDEX_RE.match(stem) else f"{folder}{stem}.html"
    pattern = _meta_str(page.meta, "permalink") or site.vuepress_permalink_pattern
    if not pattern:
        return regular
    d = page.date or dt.datetime(1970, 1, 1)
    slug = slug_vuepress(_DATE_PREFIX_RE.sub("", stem))
    link = "/" + pattern.lstrip("/")
    for name, value in (("year", f"{d.year}"), ("month", f"{d.month:02d}"), ("i_month", f"{d.month}"),
                        ("i_day", f"{d.day}"), ("day", f"{d.day:02d}"), ("minutes", f"{d.minute}"),
                        ("seconds", f"{d.second}"), ("slug", slug), ("regular", regular.lstrip("/"))):
        link = link.replace(f":{name}", value, 1)
    return link if link.endswith(("/", ".html")) else link + "/"


def _vuepress2(site: SiteConfig, rel: str, page: PageFacts) -> str:
    """VuePress 2 (``@vuepress/shared`` ``inferRoutePath``): ``a/b.md`` →
    ``/a/b.html``, ``README.md`` (any case) and ``index.md`` → the folder;
    a front-matter ``permalink`` is the path as written."""
    permalink = _meta_str(page.meta, "permalink")
    if permalink:
        return permalink
    parts, stem = _stem_parts(rel)
    folder = _folder(parts)
    if stem.lower() == "readme" or stem == "index":
        return folder
    return f"{folder}{stem}.html"


def _vitepress(site: SiteConfig, rel: str, page: PageFacts) -> str:
    """VitePress: ``a/b.md`` → ``/a/b.html`` (``/a/b`` with ``cleanUrls``),
    ``index.md`` → the folder (a README is a page like any other)."""
    permalink = _meta_str(page.meta, "permalink")
    if permalink:
        return permalink
    parts, stem = _stem_parts(rel)
    folder = _folder(parts)
    if stem == "index":
        return folder
    return f"{folder}{stem}" + ("" if site.clean_urls else ".html")


def _plain(site: SiteConfig, rel: str, page: PageFacts) -> str:
    """No generator: the file is served as it is, at its own path."""
    return _meta_str(page.meta, "permalink") or "/" + rel


# -------------------------------------------------------------------- Hexo

_HEXO_PARAM_RE = re.compile(r":(\w*[^_\W])")


def _hexo_permalink_regex(rule: str, segments: dict[str, str]) -> tuple[re.Pattern, list[str]]:
    """hexo-util ``Permalink``: a rule's placeholders as capture groups."""
    names: list[str] = []

    def group(m: re.Match) -> str:
        names.append(m.group(1))
        return segments.get(m.group(1), "(.+?)")

    return re.compile("^" + _HEXO_PARAM_RE.sub(group, re.escape(rule).replace("\\:", ":")) + "$"), names


_FILENAME_SEGMENTS = {"year": r"(\d{4})", "month": r"(\d{2})", "day": r"(\d{2})", "i_month": r"(\d{1,2})",
                      "i_day": r"(\d{1,2})", "hash": r"([0-9a-f]{12})"}
#: keys of a new_post_name file name that do not overwrite the front matter
_HEXO_PRESERVED = {"title", "year", "month", "day", "i_month", "i_day", "hash"}


def hexo_filename_info(new_post_name: str, path: str) -> dict[str, str]:
    """hexo's ``parseFilename``: what ``new_post_name`` (``:year-:month-:day-:title.md``)
    reads from a post's path under ``_posts`` (extension off): the title
    (the post's slug) and any date parts; a name that does not match is
    slugized whole (case kept)."""
    rule = new_post_name[: len(new_post_name) - len(PurePosixPath(new_post_name).suffix)]
    path = path[: len(path) - len(PurePosixPath(path).suffix)]
    regex, names = _hexo_permalink_regex(rule, _FILENAME_SEGMENTS)
    m = regex.match(path)
    if m:
        data = dict(zip(names, m.groups(), strict=True))
        if "title" not in data:
            data["title"] = slug_hexo(path)
        return data
    return {"title": slug_hexo(path)}


def _hexo_post_date(opts: HexoOptions, page: PageFacts, info: dict[str, str]) -> dt.datetime:
    """The front matter's date, else the file name's (new_post_name), else
    what zhsearch knows (git, mtime: Hexo would use the file's birth time).
    Hexo reads a date in the config's ``timezone`` and formats the
    permalink in the building machine's zone: this machine's is assumed."""
    date = page.date if _meta_str(page.meta, "date") and page.date else None
    month, day = info.get("month") or info.get("i_month"), info.get("day") or info.get("i_day")
    if date is None and info.get("year") and month and day:
        try:
            date = dt.datetime(int(info["year"]), int(month), int(day))
        except ValueError:
            pass
    if date is None:
        return page.date or dt.datetime(1970, 1, 1)
    if opts.timezone:
        try:
            zone = ZoneInfo(opts.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return date
        return date.replace(tzinfo=zone).astimezone().replace(tzinfo=None)
    return date


def _hexo_category_slug(opts: HexoOptions, categories: list[str]) -> str:
    """The slug of a post's last (deepest) category, its parents' slugs
    before it (hexo's Category model: ``category_map``, then ``slugize``)."""
    mapping = dict(opts.category_map)
    return "/".join(slug_hexo(mapping.get(c, c), opts.filename_case) for c in categories)


def _hexo_categories(meta: dict[str, Any]) -> list[str]:
    value = meta.get("categories", meta.get("category"))
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        first = value[-1] if value and isinstance(value[-1], (list, tuple)) else None
        if first is not None:  # [[a, b], c]: each list is a hierarchy; the last counts
            return [str(v) for v in first]
        return [str(v) for v in value if v is not None and not isinstance(v, (dict, list))]
    return [str(value)]


def _hexo(site: SiteConfig, rel: str, page: PageFacts) -> str:
    """Hexo 7/8: a post (``_posts/``) by the ``permalink`` rule (hexo's
    ``post_permalink`` filter: every placeholder, front-matter keys and
    ``permalink_defaults`` too, ``post_asset_folder`` adds a ``/``); a page
    (any other file not starting with ``_``) at its path with ``.html``;
    then ``pretty_urls`` strips ``index.html`` / ``.html`` as Hexo's
    ``permalink`` does."""
    opts = site.hexo or HexoOptions()
    if rel.startswith("_posts/"):
        path = _hexo_post(opts, rel[len("_posts/"):], page)
    else:
        path = _hexo_page(rel, page)
    if not opts.trailing_index and path.endswith("index.html"):
        path = path[: -len("index.html")]
    if not opts.trailing_html and path.endswith(".html"):
        path = path[: -len(".html")]
    return path


def _hexo_page(rel: str, page: PageFacts) -> str:
    """hexo's page processor: ``about/index.md`` → ``about/index.html``; a
    front-matter ``permalink`` is the path (``/`` → ``index``, ``.html`` added)."""
    permalink = _meta_str(page.meta, "permalink")
    if permalink:
        path = permalink.lstrip("/")
        if path.endswith("/") or not path:
            path += "index"
        if not PurePosixPath(path).suffix:
            path += ".html"
        return "/" + path
    return "/" + rel[: len(rel) - len(PurePosixPath(rel).suffix)] + ".html"


def _hexo_post(opts: HexoOptions, rel: str, page: PageFacts) -> str:
    permalink = _meta_str(page.meta, "permalink")
    if permalink:
        if opts.post_asset_folder and not permalink.endswith(("/", ".html")):
            permalink += "/"
        return permalink if permalink.startswith("/") else "/" + permalink
    info = hexo_filename_info(opts.new_post_name, rel)
    slug = info["title"]
    date = _hexo_post_date(opts, page, info)
    title = _meta_str(page.meta, "title") or (slug if opts.use_slug_as_post_title else "")
    categories = _hexo_categories(page.meta)
    values: dict[str, str] = {
        "title": slug,
        "name": PurePosixPath(slug).name,
        "post_title": slug_hexo(title, 1),
        "year": f"{date.year:04d}", "month": f"{date.month:02d}", "day": f"{date.day:02d}",
        "hour": f"{date.hour:02d}", "minute": f"{date.minute:02d}", "second": f"{date.second:02d}",
        "i_month": f"{date.month}", "i_day": f"{date.day}",
        "timestamp": str(int(date.replace(tzinfo=dt.UTC).timestamp())),
        "hash": hashlib.sha1((slug + str(int(date.replace(tzinfo=dt.UTC).timestamp()))).encode()).hexdigest()[:12],
        "category": _hexo_category_slug(opts, categories) if categories else opts.default_category,
    }
    for key, value in info.items():  # a file name's own placeholders become post data
        if key not in _HEXO_PRESERVED:
            values.setdefault(key, value)
    for key, value in page.meta.items():  # front-matter keys (:abbrlink) after the built-ins
        if key not in values and value is not None and not isinstance(value, (dict, list)):
            values[key] = _js_string(value)
    for key, value in opts.permalink_defaults:
        values.setdefault(key, value)
    path = _HEXO_PARAM_RE.sub(lambda m: values.get(m.group(1), "undefined"), opts.permalink)
    if opts.post_asset_folder and not path.endswith(("/", ".html")):
        path += "/"
    return "/" + path.lstrip("/")


def _js_string(value: Any) -> str:
    """A front-matter value as JavaScript's ``String()`` writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# -------------------------------------------------------------------- Hugo

_HUGO_KEEP = set("./\\_-#+~")


def hugo_sanitize(path: str, lower: bool = True) -> str:
    """Hugo's ``MakePathSanitized``: letters, digits and marks kept with
    ``./\\_-#+~``; a space becomes ``-``, anything else is dropped;
    lower-cased unless ``disablePathToLower``."""
    out = []
    for ch in path:
        cat = unicodedata.category(ch)
        if ch in _HUGO_KEEP or cat[0] in ("L", "N", "M"):
            out.append(ch)
        elif ch == " ":
            out.append("-")
    s = "".join(out)
    return s.lower() if lower else s


def hugo_urlize(text: str) -> str:
    """Hugo's ``urlize`` of a title for ``:title``/``:slug``."""
    return hugo_sanitize(text.strip())


def _hugo_language(opts: HugoOptions, rel: str) -> tuple[str | None, str]:
    """``(language code or None, path inside the language's content)``."""
    for lang in opts.languages:
        if lang.content_dir:
            below = lang.content_dir
            if below.startswith(opts.content_dir + "/"):
                below = below[len(opts.content_dir) + 1:]
            if rel.startswith(below + "/"):
                return lang.code, rel[len(below) + 1:]
    codes = {lang.code.lower() for lang in opts.languages}
    p = PurePosixPath(rel)
    stem, _, suffix = p.stem.rpartition(".")
    if stem and suffix.lower() in codes:  # translation by file name: about.zh.md
        return suffix.lower(), str(p.with_name(stem + p.suffix))
    return None, rel


def _hugo(site: SiteConfig, rel: str, page: PageFacts) -> str:
    """Hugo 0.111 (``resources/page/page_paths.go``, ``permalinks.go``):
    ``posts/x.md`` → ``/posts/x/`` (``/posts/x.html`` with ``uglyURLs``),
    ``posts/b/index.md`` (a bundle) → ``/posts/b/``, ``_index.md`` → its
    section; ``url`` in front matter is the path, ``slug`` replaces the file
    name, ``permalinks`` of the page's section apply to its pages; paths
    are sanitized and lower-cased; another language than the default (or
    every language with ``defaultContentLanguageInSubdir``) is under
    ``/<lang>/``."""
    opts = site.hugo or HugoOptions()
    lang, rel = _hugo_language(opts, rel)
    lang = (lang or opts.default_language).lower()
    prefix = ""
    if opts.multilingual and (lang != opts.default_language or opts.default_language_in_subdir):
        prefix = "/" + lang
    url = _meta_str(page.meta, "url") or _meta_str(page.meta, "permalink")
    if url:  # Hugo publishes "/a/b" at a/b/index.html and links it "/a/b/"
        url = "/" + url.lstrip("/")
        return url if url.endswith("/") or PurePosixPath(url).suffix else url + "/"
    parts, stem = _stem_parts(rel)
    if stem == "_index":  # a section (or the home page)
        path = _folder(parts)
        return prefix + hugo_sanitize(path, opts.path_to_lower)
    bundle = stem == "index"
    name = parts[-1] if bundle and parts else stem
    folder = parts[:-1] if bundle else parts
    slug = _meta_str(page.meta, "slug")
    section = folder[0] if folder else ""
    pattern = dict(opts.permalinks).get(f"page:{section}") or dict(opts.permalinks).get(section)
    if pattern and folder:
        path = _hugo_pattern(pattern, folder, name, slug, page)
    else:
        path = _folder(folder) + (slug or name) + "/"
    path = hugo_sanitize(path, opts.path_to_lower)
    if opts.ugly_urls and path.endswith("/") and len(path) > 1:
        path = path[:-1] + ".html"
    return prefix + path


def _hugo_pattern(pattern: str, folder: list[str], name: str, slug: str, page: PageFacts) -> str:
    d = page.date or dt.datetime(1, 1, 1)
    title = _meta_str(page.meta, "title") or page.title
    values = {
        "year": f"{d.year:04d}", "month": f"{d.month:02d}", "monthname": d.strftime("%B"),
        "day": f"{d.day:02d}", "weekday": str((d.weekday() + 1) % 7), "weekdayname": d.strftime("%A"),
        "yearday": str(d.timetuple().tm_yday), "section": folder[0], "sections": "/".join(folder),
        "title": hugo_urlize(title), "slug": hugo_urlize(slug or title), "filename": name,
        "slugorfilename": slug or name, "contentbasename": name, "slugorcontentbasename": slug or name,
    }
    out = re.sub(r":(\w+)", lambda m: values.get(m.group(1), m.group(0)), pattern)
    return "/" + out.lstrip("/")


def unpublished(site: SiteConfig, page: PageFacts) -> str | None:
    """Why the generator builds no page for this article, or None.  Such an
    article is not indexed: its link could only be a 404 (and a draft is
    not for readers)."""
    meta = page.meta
    if content_path(site, page.rel) is None:
        return f"outside the site's content folder ({site.content_in_corpus}/)"
    if site.generator is Generator.HUGO:
        if meta.get("draft") is True or str(meta.get("draft")).lower() == "true":
            return "draft: true (Hugo does not publish drafts)"
        build = meta.get("_build") or meta.get("build")
        if isinstance(build, dict) and str(build.get("render", "")).lower() in ("never", "false"):
            return "build.render: never (Hugo renders no page)"
        rel = content_path(site, page.rel) or page.rel
        if PurePosixPath(rel).name == "index.md" and meta.get("headless") is True:
            return "headless bundle (Hugo renders no page)"
    if site.generator is Generator.HEXO:
        rel = content_path(site, page.rel) or page.rel
        if rel.startswith("_drafts/"):
            return "in _drafts (Hexo does not publish drafts)"
        if meta.get("published") is False:
            return "published: false (Hexo does not publish it)"
        if rel.startswith("_") and not rel.startswith("_posts/"):
            return "in a folder starting with _ (Hexo publishes no page for it)"
    return None


_RULES = {
    Generator.VUEPRESS: _vuepress1,
    Generator.VUEPRESS2: _vuepress2,
    Generator.VITEPRESS: _vitepress,
    Generator.HEXO: _hexo,
    Generator.HUGO: _hugo,
    Generator.PLAIN: _plain,
}
