"""Shared pieces for the bench scripts: corpus reading, query/run I/O and scoring.

The bench scripts must compare *our* engine with peer baselines on exactly the same
articles, docids and measures, so everything that decides those lives here once:

* which files count as articles and how their title/tags/body are extracted
  (:func:`load_corpus`);
* the docid convention of ``shared/qrels/README.md`` (path relative to the corpus
  root, every ASCII space written as ``%20``; :func:`encode_docid`);
* reading ``queries.tsv`` (:func:`load_queries`), writing TREC runs
  (:func:`write_run`) and scoring them with ir_measures (:func:`evaluate_run`).

Nothing here imports the project packages (indexer/, search/ ...): the baselines must
not inherit any of our engine's choices.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import frontmatter
import ir_measures
from ir_measures import RR, P, R, nDCG

#: Measures reported by every bench script (the README's two plus R@10 and P@1).
MEASURES = [nDCG @ 10, RR @ 10, R @ 10, P @ 1]
#: Column order / printable names of :data:`MEASURES`.
MEASURE_NAMES = [str(m) for m in MEASURES]

#: Files inside source folders that are provenance notes, not articles.
SKIP_NAMES = frozenset({"LICENSE.source", "SOURCE.txt"})
#: Decodings tried in order; utf-8-sig also swallows a BOM, gb18030 covers legacy GBK files.
ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass(slots=True)
class Article:
    """One markdown article as the baselines see it."""

    docid: str  # qrels docid: relative path with " " -> "%20"
    path: str  # relative path exactly as on disk (POSIX separators)
    title: str
    tags: list[str] = field(default_factory=list)
    body: str = ""  # plain-ish text, see clean_markdown()


def encode_docid(relpath: str) -> str:
    """Apply the qrels README's docid rule: only ASCII spaces are encoded, as ``%20``."""
    return relpath.replace(" ", "%20")


# --------------------------------------------------------------------------- markdown
# Body cleaning is deliberately simple regex work, *not* a markdown renderer: it only has
# to be the same for both baselines and roughly what a peer would feed an indexer.
#   * fenced code blocks (``` / ~~~) are removed: they are mostly code, which adds
#     noise terms to a Chinese prose search (inline `code` is kept, backticks dropped);
#   * HTML comments and tags are removed (VuePress/Hugo pages embed lots of markup);
#   * bare URLs and link/image targets are removed, link/image text is kept;
#   * heading/emphasis/table/quote punctuation is blanked; text is otherwise untouched.
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})[^\n]*\n.*?(?:^[ \t]{0,3}\1[`~]*[ \t]*$|\Z)", re.M | re.S)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_REF_DEF = re.compile(r"^\s*\[[^\]]+\]:\s*\S+.*$", re.M)
_URL = re.compile(r"(?:https?|ftp)://[^\s<>()\[\]\"'，。）》]+")
_MD_PUNCT = re.compile(r"^[ \t]*(?:#{1,6}|>+|[-*+]|\d+\.)[ \t]+|[*_]{2,}|`+|^\s*\|?(?:\s*:?-{3,}:?\s*\|)+\s*$|\|", re.M)
_H1 = re.compile(r"^#[ \t]+(.+?)[ \t]*#*[ \t]*$", re.M)
_BLANKS = re.compile(r"[ \t]+")


def strip_code_fences(md: str) -> str:
    """Remove fenced code blocks (an unclosed fence runs to the end, as in CommonMark)."""
    return _FENCE.sub("\n", md)


def clean_markdown(md: str) -> str:
    """Markdown -> plain-ish text for indexing (rules in the comment block above)."""
    text = strip_code_fences(md.replace("\r\n", "\n").replace("\r", "\n"))
    text = _HTML_COMMENT.sub(" ", text)
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _REF_DEF.sub(" ", text)
    text = _HTML_TAG.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _MD_PUNCT.sub(" ", text)
    return _BLANKS.sub(" ", text)


def _as_text(value: object) -> str:
    """Front-matter values can be ints, dates or lists; flatten to a string."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return " ".join(_as_text(v) for v in value)
    return str(value).strip()


def _tags(meta: dict) -> list[str]:
    raw = meta.get("tags", meta.get("tag"))
    if raw is None:
        return []
    if isinstance(raw, (list, tuple, set)):
        return [t for t in (_as_text(v) for v in raw) if t]
    t = _as_text(raw)
    return [t] if t else []


def _decode(data: bytes) -> str:
    for enc in ENCODINGS:
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise UnicodeDecodeError("|".join(ENCODINGS), data, 0, 1, "no listed encoding fits")


def _split_front_matter(text: str) -> tuple[dict, str]:
    """python-frontmatter, falling back to 'drop the --- block, no metadata' on bad YAML.

    A broken YAML header should not lose the article; its body is still searchable.
    """
    try:
        post = frontmatter.loads(text)
        meta = post.metadata if isinstance(post.metadata, dict) else {}
        return meta, post.content
    except Exception as exc:  # yaml.YAMLError, ValueError, TypeError from odd headers
        m = re.match(r"\A---[ \t]*\n.*?\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", text, re.S)
        print(f"  note: front matter unreadable ({type(exc).__name__}); body kept", file=sys.stderr)
        return {}, text[m.end():] if m else text


def read_article(root: Path, path: Path) -> Article:
    """Read one file; raises on undecodable bytes (the caller skips and reports)."""
    text = _decode(path.read_bytes())
    meta, content = _split_front_matter(text)
    rel = path.relative_to(root).as_posix()
    title = _as_text(meta.get("title"))
    if not title:
        m = _H1.search(strip_code_fences(content))  # a '# x' inside code is a comment
        title = m.group(1).strip() if m else path.stem
    return Article(docid=encode_docid(rel), path=rel, title=title, tags=_tags(meta), body=clean_markdown(content))


def iter_markdown_files(root: Path) -> list[Path]:
    """Every *.md / *.MD below root (sorted, so runs are reproducible), minus provenance files."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if name in SKIP_NAMES or not name.lower().endswith(".md"):
                continue
            out.append(Path(dirpath) / name)
    return out


def load_corpus(root: Path) -> list[Article]:
    """All readable articles under root; unreadable files are skipped with a printed reason."""
    articles = []
    for path in iter_markdown_files(root):
        try:
            articles.append(read_article(root, path))
        except (OSError, UnicodeDecodeError) as exc:
            print(f"  skip {path.relative_to(root)}: {type(exc).__name__}: {exc}", file=sys.stderr)
    return articles


# ------------------------------------------------------------------ queries / runs
def load_queries(path: str | Path) -> list[tuple[str, str]]:
    """``qid<TAB>query`` lines of queries.tsv, skipping ``#`` comments and blank lines."""
    out = []
    with open(path, encoding="utf-8-sig") as fh:
        for line in fh:
            line = line.rstrip("\r\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            qid, _, query = line.partition("\t")
            out.append((qid.strip(), query.strip()))
    return out


def write_run(path: str | Path, results: dict[str, Sequence[tuple[str, float]]], tag: str) -> None:
    """Write a TREC run (``qid Q0 docid rank score tag``); docids must already be %20-encoded.

    Ranks follow list order; scores are written as given (ir_measures re-sorts by score,
    so callers must pass lists sorted by descending score).
    """
    with open(path, "w", encoding="utf-8") as fh:
        for qid, hits in results.items():
            for rank, (docid, score) in enumerate(hits, 1):
                if " " in docid:
                    raise ValueError(f"unencoded space in docid {docid!r}")
                fh.write(f"{qid} Q0 {docid} {rank} {score:.6f} {tag}\n")


def evaluate_run(run_path: str | Path, qrels_path: str | Path) -> dict[str, float]:
    """Mean nDCG@10, RR@10, R@10, P@1 of a TREC run against TREC qrels (ir_measures).

    The mean is taken explicitly over every query in the qrels, a query absent from the
    run scoring 0, so an engine that returns nothing for hard queries is never flattered
    whatever ir_measures provider ends up computing the per-query values. (With
    pytrec_eval this equals ``ir_measures.calc_aggregate``.)
    """
    qrels = list(ir_measures.read_trec_qrels(str(qrels_path)))
    run = list(ir_measures.read_trec_run(str(run_path)))
    per_query = {str(m): {} for m in MEASURES}
    for metric in ir_measures.iter_calc(MEASURES, qrels, run):
        per_query[str(metric.measure)][metric.query_id] = metric.value
    qids = {q.query_id for q in qrels}
    return {name: sum(vals.get(q, 0.0) for q in qids) / len(qids) for name, vals in per_query.items()}


def format_table(rows: Iterable[tuple[str, dict[str, float]]]) -> str:
    """A small fixed-width table: one row per run, one column per measure."""
    rows = list(rows)
    width = max([len("run")] + [len(name) for name, _ in rows])
    head = f"{'run':<{width}}  " + "  ".join(f"{m:>8}" for m in MEASURE_NAMES)
    lines = [head, "-" * len(head)]
    for name, vals in rows:
        lines.append(f"{name:<{width}}  " + "  ".join(f"{vals.get(m, float('nan')):>8.4f}" for m in MEASURE_NAMES))
    return "\n".join(lines)


# ------------------------------------------------------------------ segmentation
def _init_jieba() -> None:
    import jieba

    jieba.setLogLevel(60)  # silence "Building prefix dict..." on stderr in every worker
    jieba.initialize()


def parallel_map(fn: Callable[[str], list[str]], texts: Sequence[str], procs: int = 2) -> list[list[str]]:
    """Map a (module-level, picklable) tokenizer over texts with a fork pool.

    jieba is pure Python (~0.5 M chars/s); two processes roughly halve the segmentation
    time of the whole corpus. The dictionary is loaded once in the parent so forked
    workers inherit it instead of each rebuilding it.
    """
    _init_jieba()
    if procs <= 1 or len(texts) < 50:
        return [fn(t) for t in texts]
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    with ctx.Pool(procs) as pool:
        return pool.map(fn, texts, chunksize=max(1, len(texts) // (procs * 16)))


def code_version() -> str:
    """Where ``search`` is imported from and its git revision: code changes under benches."""
    import subprocess

    import search  # the package the bench scripts import

    src = Path(search.__file__).resolve().parent.parent
    try:
        rev = subprocess.run(["git", "-C", str(src), "describe", "--always", "--dirty"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        rev = ""
    return f"{src} @ {rev or 'no git'}"
