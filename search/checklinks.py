"""``zhsearch check-links``: do the results' links exist on the built site?

A result links to ``base URL + permalink + #anchor`` (:func:`indexer.site.join_url`,
the same function the results page and the widget use), with the permalink
and the anchors the index stores.  This module takes every indexed article,
makes exactly those links, and looks each one up in the site the generator
built (its ``public/``, ``dist/`` folder):

* **missing page**: no file answers the URL;
* **redirect**: a file answers only through a redirect a web server would
  make (``/pages/x`` served from ``pages/x/index.html`` costs a 301 to
  ``/pages/x/``): the link is not the one the generator writes;
* **missing anchor**: the page has no element with the section's ``id``.

The built site can also be a *record* (:func:`record_site`: the list of built
pages and each page's element ids, as JSON), which is how the tests compare
zhsearch with the real generators without running them.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from indexer import store
from indexer.site import join_url


class Problem(StrEnum):
    MISSING_PAGE = "missing page"
    REDIRECT = "redirect"
    MISSING_ANCHOR = "missing anchor"


@dataclass(frozen=True)
class LinkIssue:
    """One link of the results that does not land where it should."""

    problem: Problem
    path: str  # the article, relative to the corpus
    url: str  # the link as the results give it
    detail: str = ""


@dataclass
class LinkReport:
    site: str
    base_url: str
    articles: int = 0
    pages_found: int = 0
    anchors_checked: int = 0
    issues: list[LinkIssue] = field(default_factory=list)

    def count(self, problem: Problem) -> int:
        return sum(1 for i in self.issues if i.problem is problem)

    @property
    def ok(self) -> bool:
        return not self.issues

    def to_dict(self) -> dict:
        return {
            "site": self.site, "base_url": self.base_url, "articles": self.articles,
            "pages_found": self.pages_found, "anchors_checked": self.anchors_checked,
            "missing_pages": self.count(Problem.MISSING_PAGE), "redirects": self.count(Problem.REDIRECT),
            "missing_anchors": self.count(Problem.MISSING_ANCHOR),
            "issues": [{**asdict(i), "problem": i.problem.value} for i in self.issues],
        }


class _Ids(HTMLParser):
    """Every ``id`` (and ``<a name>``) of a page, entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs) -> None:
        for name, value in attrs:
            if value and (name == "id" or (name == "name" and tag == "a")):
                self.ids.add(value)

    handle_startendtag = handle_starttag


def page_ids(html: str) -> set[str]:
    """The element ids of one HTML page."""
    parser = _Ids()
    parser.feed(html)
    parser.close()
    return parser.ids


class BuiltSite:
    """A built site: which files exist, and the element ids of its pages."""

    def __init__(self, files: set[str], ids: dict[str, set[str]] | None = None,
                 root: Path | None = None) -> None:
        self.files = files  # relative paths, "/"-separated
        self._ids = ids if ids is not None else {}
        self.root = root

    @classmethod
    def from_dir(cls, root: Path) -> BuiltSite:
        root = Path(root)
        if not root.is_dir():
            raise FileNotFoundError(f"built site {root} is not a folder")
        files = set()
        for dirpath, _dirnames, filenames in os.walk(root):
            rel = Path(dirpath).relative_to(root).as_posix()
            for name in filenames:
                files.add(name if rel == "." else f"{rel}/{name}")
        return cls(files, None, root)

    @classmethod
    def from_record(cls, record: dict) -> BuiltSite:
        pages = record.get("pages") or {}
        return cls(set(pages), {p: set(ids) for p, ids in pages.items()})

    def ids(self, page: str) -> set[str]:
        if page not in self._ids:
            assert self.root is not None
            text = (self.root / page).read_text(encoding="utf-8", errors="replace")
            self._ids[page] = page_ids(text)
        return self._ids[page]

    def resolve(self, path: str) -> tuple[str | None, bool]:
        """``(file, redirected)`` answering a URL path (already relative to
        the site's root, unquoted), as a static host serves it: ``a/`` →
        ``a/index.html``; ``a`` → ``a`` or ``a.html`` (clean URLs, served
        directly), else ``a/index.html`` after a redirect to ``a/``."""
        path = path.lstrip("/")
        if path == "" or path.endswith("/"):
            index = path + "index.html"
            return (index, False) if index in self.files else (None, False)
        if path in self.files:
            return path, False
        if path + ".html" in self.files:
            return path + ".html", False
        if path + "/index.html" in self.files:
            return path + "/index.html", True
        return None, False


def record_site(root: Path) -> dict:
    """The built pages of a site and each one's element ids (sorted), as
    committed for the fixture sites (``tests/fixtures/sites/*/built.json``)."""
    site = BuiltSite.from_dir(root)
    pages = {p: sorted(site.ids(p)) for p in sorted(site.files) if p.endswith(".html")}
    return {"pages": pages}


def check_links(index_dir: Path, site: BuiltSite, base_url: str | None = None) -> LinkReport:
    """Check every indexed article's URL and section anchors against ``site``.

    ``base_url``: where the built site is published (``https://x.github.io/blog``);
    its path is the prefix taken off a link before looking it up.  Without
    it, the site's base path recorded in the index (its generator's
    ``base``/``root``/``baseURL``) is the prefix."""
    ix, gen = store.open_current(Path(index_dir))
    site_meta = (gen.meta.get("identity") or {}).get("site") or {}
    base = (base_url or "").rstrip("/")
    prefix = urlsplit(base).path.rstrip("/") if base else str(site_meta.get("base") or "/").rstrip("/")
    report = LinkReport(site=str(site.root or "(record)"), base_url=base or prefix or "/")
    try:
        with ix.searcher() as searcher:
            for docnum in searcher.reader().all_doc_ids():
                fields = searcher.stored_fields(docnum)
                _check_article(fields, site, base, prefix, report)
    finally:
        ix.close()
    report.issues.sort(key=lambda i: (i.problem.value, i.path, i.url))
    return report


def _check_article(fields: dict, site: BuiltSite, base: str, prefix: str, report: LinkReport) -> None:
    report.articles += 1
    path, permalink = fields.get("path", ""), fields.get("url") or ""
    link = join_url(base or None, permalink)
    url_path = unquote(urlsplit(link).path)
    if prefix and (url_path == prefix or url_path.startswith(prefix + "/")):
        url_path = url_path[len(prefix):] or "/"
    elif prefix:
        report.issues.append(LinkIssue(Problem.MISSING_PAGE, path, link, f"not under the site's base {prefix}/"))
        return
    page, redirected = site.resolve(url_path)
    if page is None:
        report.issues.append(LinkIssue(Problem.MISSING_PAGE, path, link))
        return
    report.pages_found += 1
    if redirected:
        report.issues.append(LinkIssue(Problem.REDIRECT, path, link, f"served by {page} after a redirect"))
    ids = site.ids(page)
    for section in fields.get("sections") or ():
        heading, anchor = section[0], section[1]
        if not heading or not anchor:
            continue
        report.anchors_checked += 1
        if anchor not in ids:
            report.issues.append(LinkIssue(Problem.MISSING_ANCHOR, path, join_url(base or None, permalink, anchor),
                                           f"no id {anchor!r} in {page} (heading {heading!r})"))


def load_record(path: Path) -> BuiltSite:
    """The pages of a built site from its record (``built.json``, as the
    fixture sites keep them)."""
    return BuiltSite.from_record(json.loads(Path(path).read_text(encoding="utf-8")))
