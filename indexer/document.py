"""An article file → what the index files for it.

A :class:`ParseJob` is one article file as the update read it, with what
decides its URL and its date; :func:`parse_job` turns it into the article's
index fields (:class:`Parsed`, through :func:`article_fields`) or the reason
it is not indexed (:class:`Skipped`).  It runs in whichever process writes
the article: a worker of :mod:`indexer.mpwrite` in a full build, the
updating process in a small update.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import NamedTuple

from . import filenames, stored
from .analysis import Analyzer
from .article import Article, ArticleError, parse_article
from .folding import strip_bidi
from .site import SiteConfig

log = logging.getLogger(__name__)


class ParseJob(NamedTuple):
    """One article file to parse, analyse and write (only this crosses a
    process boundary in a full build)."""

    #: the index key (:mod:`indexer.filenames`): the corpus-relative path
    path: str
    #: the file's bytes, as read once by the update
    raw: bytes
    mtime_ns: int
    #: the date git knows for the file, used when the front matter has none
    git_date: dt.datetime | None
    #: the site generator and its settings: URLs and heading ids
    site: SiteConfig


@dataclass
class Parsed:
    """An article already turned into index fields, in the process that
    writes it: folding its sections for storage is per-character work that
    belongs in parallel, not in the process feeding the writer."""

    path: str
    warnings: list[str]
    fields: dict


class Skipped(NamedTuple):
    """An article file that is not indexed, and why (told to the user)."""

    path: str
    reason: str


def parse_job(job: ParseJob, analyzer: Analyzer) -> Parsed | Skipped:
    """An article file → its index fields, or why it was skipped."""
    rel = job.path
    try:
        # a GBK name is parsed under its readable decoding (its fallback title), filed under its key
        a = parse_article(job.raw, filenames.article_name(rel), mtime_ns=job.mtime_ns, site=job.site,
                          fallback_date=job.git_date)
        a.path = rel
        if a.unpublished:  # the generator builds no page for it: a result could only be a 404
            return Skipped(rel, f"not published: {a.unpublished}")
        return Parsed(a.path, list(a.warnings), article_fields(a, analyzer))
    except ArticleError as exc:
        return Skipped(rel, str(exc))
    except Exception as exc:  # never lose the corpus over one file
        log.exception("unexpected error parsing %s", rel)
        return Skipped(rel, f"unexpected error: {type(exc).__name__}: {exc}")


def article_fields(a: Article, analyzer: Analyzer) -> dict:
    """An article as Whoosh field values: text fields as ``analyzer``'s tokens.

    Every piece of text is folded once: the body is its sections' folded
    texts (stored folded for snippets too), and the bigram field reuses the
    folded title, headings, description and body."""
    fold = analyzer.fold
    # what is shown (titles, snippets) never carries a bidi override that would reorder it
    texts = [strip_bidi(s.text) for s in a.sections]
    sections = [(s, text, fold(text)) for s, text in zip(a.sections, texts, strict=True)]
    body = "\n".join(f for s, _, (f, _) in sections if s.text)  # Article.body, folded
    title, headings, description = fold(a.title)[0], fold(a.headings)[0], fold(a.description)[0]
    shown_title = strip_bidi(a.title)
    words = analyzer.indexed_words
    return dict(
        path=a.path,
        hash=a.content_hash.encode("ascii"),
        mtime_ns=a.mtime_ns,
        size=a.size,
        title=words(title),
        keywords=words(fold("\n".join(a.keywords + a.tags))[0]),
        headings=words(headings),
        description=words(description),
        body=words(body),
        code=analyzer.code_words(a.code),
        bigram=analyzer.indexed_bigrams("\n".join((title, headings, description, body))),
        tag=",".join(analyzer.fold_label(t) for t in a.tags),
        category=",".join(analyzer.fold_label(c) for c in a.categories),
        date=a.date,
        title_text=shown_title,
        url=a.permalink,
        description_text=strip_bidi(a.description),
        tags=[strip_bidi(t) for t in a.tags],
        categories=[strip_bidi(c) for c in a.categories],
        display=(shown_title, a.permalink),
        sections=[stored.encode(strip_bidi(s.heading), s.anchor, text, folded) for s, text, folded in sections],
        overview=a.overview,
    )
