"""Bring an index up to date with a corpus folder: scan, diff, write, publish.

Incremental by default: a file whose size and mtime are unchanged is not even
read; one whose bytes hash the same as before (a mere ``touch``) is not
re-indexed.  Every run that changes anything writes a new generation (see
``indexer.store``) so readers never see a half-written index, and a full build
uses both cores: articles are parsed in a process pool while Whoosh's
multi-process writer segments (jieba) and writes in worker processes.
"""

from __future__ import annotations

import datetime as dt
import logging
import hashlib
import os
import shutil
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from whoosh import index as whoosh_index

from . import analysis, gitdates, store, stored
from .analysis import fold_label
from .anchors import DEFAULT_STYLE, AnchorStyle
from .codec import ZhCodec
from .article import MAX_ARTICLE_BYTES, Article, ArticleError, is_markdown, parse_article
from .schema import build_schema, versions

log = logging.getLogger(__name__)

#: Folders never descended into: VCS data, dependencies, build output.
SKIP_DIRS = {"node_modules", "__pycache__", "_site", "public", "dist"}
#: Above this many changed articles, use the multi-process writer.
PARALLEL_THRESHOLD = 64

#: Whoosh's posting buffer per writer process.  Once it overflows, every
#: posting is pickled to a run file and merged back, which costs more than
#: jieba; a buffer that holds a whole 3,000-article corpus avoids that.
WRITER_LIMIT_MB = 512

ProgressFn = Callable[[int, int], None]
#: What a parse worker gets: (path, bytes, mtime_ns); the date git knows and
#: the anchor style ride along in a :data:`ParseJob`.
ReadJob = tuple[str, bytes, int]
ParseJob = tuple[str, bytes, int, "dt.datetime | None", AnchorStyle]

#: What an interrupted run tells the user (the CLI prints it too).
INTERRUPTED = "interrupted: the index is unchanged (the live generation was not touched)"


@dataclass
class IndexReport:
    """What an ``index`` run did; printed by the CLI, asserted by tests."""

    corpus: str
    index: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    rebuilt: bool = False
    rebuild_reason: str | None = None
    generation: str | None = None
    total: int = 0
    elapsed: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.deleted or self.rebuilt)


@dataclass(frozen=True)
class IndexConfig:
    corpus: Path
    index: Path
    userdict: Path | None = None
    workers: int = 0  # 0: one per core
    #: how the site generator makes heading ids (part of the index identity)
    anchor_style: AnchorStyle = DEFAULT_STYLE

    def resolved_userdict(self) -> Path | None:
        if self.userdict is not None:
            return self.userdict
        default = self.corpus / "userdict.txt"
        return default if default.is_file() else None


# ------------------------------------------------------------------ scan

def scan_corpus(root: Path) -> tuple[dict[str, Path], list[tuple[str, str]]]:
    """All markdown files under ``root`` by relative path, plus skipped ones.

    Symlinked directories are not followed (no loops); symlinked files are.
    """
    found: dict[str, Path] = {}
    skipped: list[tuple[str, str]] = []

    def onerror(exc: OSError) -> None:
        rel = _rel(Path(exc.filename), root) if exc.filename else "?"
        skipped.append((rel, f"cannot list directory: {exc.strerror}"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in SKIP_DIRS)
        base = Path(dirpath)
        for d in dirnames:
            if is_markdown(Path(d)):
                skipped.append((_rel(base / d, root), "is a directory, not an article"))
        for name in sorted(filenames):
            p = base / name
            if not is_markdown(p):
                continue
            rel = _rel(p, root)
            if not p.is_file():
                reason = "broken symlink" if p.is_symlink() else "not a regular file"
                skipped.append((rel, reason))
                continue
            found[rel] = p
    return found, skipped


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


# --------------------------------------------------------------- parsing

@dataclass
class _Parsed:
    """An article already turned into index fields, in a parse worker:
    folding its sections for storage is per-character work that belongs in
    parallel, not in the process feeding the writer."""

    path: str
    warnings: list[str]
    fields: dict


def _parse_job(job: ParseJob) -> _Parsed | tuple[str, str]:
    rel, raw, mtime_ns, git_date, anchors = job
    try:
        a = parse_article(raw, rel, mtime_ns=mtime_ns, anchors=anchors, fallback_date=git_date)
        return _Parsed(a.path, list(a.warnings), article_fields(a))
    except ArticleError as exc:
        return rel, str(exc)
    except Exception as exc:  # never lose the corpus over one file
        log.exception("unexpected error parsing %s", rel)
        return rel, f"unexpected error: {type(exc).__name__}: {exc}"


def article_fields(a: Article) -> dict:
    """An article as Whoosh field values."""
    body = a.body
    headings = a.headings
    keywords = "\n".join(a.keywords + a.tags)
    return dict(
        path=a.path,
        hash=a.content_hash.encode("ascii"),
        mtime_ns=a.mtime_ns,
        size=a.size,
        title=a.title,
        keywords=keywords,
        headings=headings,
        description=a.description,
        body=body,
        code=a.code,
        bigram="\n".join((a.title, headings, a.description, body)),
        tag=",".join(fold_label(t) for t in a.tags),
        category=",".join(fold_label(c) for c in a.categories),
        date=a.date,
        title_text=a.title,
        url=a.permalink,
        description_text=a.description,
        tags=a.tags,
        categories=a.categories,
        display=(a.title, a.permalink),
        sections=[stored.encode(s.heading, s.anchor, s.text) for s in a.sections],
    )


# ----------------------------------------------------------------- update

def _identity(cfg: IndexConfig) -> dict:
    ident = dict(versions())
    ident["userdict"] = analysis.userdict_fingerprint(cfg.resolved_userdict())
    ident["anchors"] = AnchorStyle.parse(cfg.anchor_style).value
    return ident


def _manifest(ix) -> dict[str, tuple[str, int, int]]:
    """path → (content hash, mtime_ns, size) for every live document, from columns."""
    out: dict[str, tuple[str, int, int]] = {}
    with ix.reader() as r:
        paths = r.column_reader("path")
        hashes = r.column_reader("hash")
        mtimes = r.column_reader("mtime_ns")
        sizes = r.column_reader("size")
        for docnum in r.all_doc_ids():
            out[paths[docnum]] = (hashes[docnum].decode("ascii"), mtimes[docnum], sizes[docnum])
    return out


def update_index(cfg: IndexConfig, *, rebuild: bool = False, wait: float = 0.0,
                 progress: ProgressFn | None = None) -> IndexReport:
    """Make the index at ``cfg.index`` reflect ``cfg.corpus``."""
    t0 = time.perf_counter()
    corpus = Path(cfg.corpus)
    if not corpus.is_dir():
        raise FileNotFoundError(f"corpus folder {corpus} does not exist")
    report = IndexReport(corpus=str(corpus), index=str(cfg.index))
    with store.writer_lock(cfg.index, wait=wait):
        store.collect_garbage(cfg.index)
        analysis.configure(cache_dir=store.jieba_cache_dir(cfg.index), userdict=cfg.resolved_userdict())
        identity = _identity(cfg)

        current = None
        manifest: dict[str, tuple[str, int, int]] = {}
        reason = "requested (--rebuild)" if rebuild else None
        if not rebuild:
            try:
                cur = store.read_current(cfg.index)
                if cur is None:
                    reason = "no index yet"
                elif cur.meta.get("identity") != identity:
                    reason = _identity_change(cur.meta.get("identity") or {}, identity)
                else:
                    ix, current = store.open_current(cfg.index)
                    manifest = _manifest(ix)
                    ix.close()
            except Exception as exc:
                reason = f"existing index unusable ({exc})"
        if reason:
            report.rebuilt = True
            report.rebuild_reason = reason
            if reason not in ("no index yet", "requested (--rebuild)"):
                log.warning("rebuilding the index: %s", reason)

        files, skipped = scan_corpus(corpus)
        report.skipped.extend(skipped)
        reads, keep_old = _diff(files, manifest, report)
        unlisted = [p for p, why in skipped if why.startswith("cannot list directory")]
        keep_old |= {p for p in manifest if any(p.startswith(d.rstrip("/") + "/") for d in unlisted)}
        report.deleted = sorted(p for p in manifest if p not in files and p not in keep_old)

        if not report.changed:
            report.total = len(manifest)
            report.generation = current.name if current else None
            report.elapsed = time.perf_counter() - t0
            return report

        jobs = _with_dates(corpus, reads, AnchorStyle.parse(cfg.anchor_style))
        gen_path = store.new_generation(cfg.index, None if report.rebuilt else current.path)
        try:
            userdict = cfg.resolved_userdict()
            if userdict:  # queries must segment with exactly this dictionary
                shutil.copyfile(userdict, gen_path / store.USERDICT)
            if report.rebuilt:
                ix = whoosh_index.create_in(str(gen_path), build_schema())
            else:
                ix = whoosh_index.open_dir(str(gen_path))
            analysis.get_jieba()  # load once here so forked writers inherit it
            _write(ix, gen_path, jobs, report, cfg, progress)
            report.total = ix.doc_count()
            expected = len(set(manifest) - set(report.deleted) | set(report.added))
            if report.total != expected:
                raise RuntimeError(f"the index writer lost documents ({report.total} written, "
                                   f"{expected} expected); the live index was not changed")
            ix.close()
            if not report.changed:  # every candidate failed to parse: nothing to publish
                shutil.rmtree(gen_path, ignore_errors=True)
                report.generation = current.name if current else None
                report.elapsed = time.perf_counter() - t0
                return report
            now = dt.datetime.now().isoformat(timespec="seconds")
            store.write_meta(gen_path, {
                "identity": identity,
                "corpus": str(corpus.resolve()),
                "documents": report.total,
                "updated": now,
                "built": now if report.rebuilt else (current.meta.get("built") if current else now),
            })
            store.publish(cfg.index, gen_path)
        except BaseException:
            # unfinished generation: never published, removed now or next run.
            # A Ctrl-C can land inside publish() after CURRENT already names it:
            # then it is the live index and must stay.
            if not store.is_live(cfg.index, gen_path):
                shutil.rmtree(gen_path, ignore_errors=True)
            raise
        report.generation = gen_path.name
        store.collect_garbage(cfg.index)
    report.elapsed = time.perf_counter() - t0
    return report


def _with_dates(corpus: Path, reads: list[ReadJob], anchors: AnchorStyle) -> list[ParseJob]:
    """Parse jobs: each file with the date git knows for it (one ``git log``
    for all of them; used when the front matter has no date)."""
    dates = gitdates.collect(corpus, [rel for rel, _, _ in reads]) if reads else None
    return [(rel, raw, mtime, dates.date_for(rel, mtime) if dates else None, anchors)
            for rel, raw, mtime in reads]


def _identity_change(old: dict, new: dict) -> str:
    changes = []
    for key, label in (("schema", "schema version"), ("analysis", "analysis version"),
                       ("userdict", "user dictionary"), ("anchors", "anchor style")):
        if old.get(key) != new.get(key):
            if key == "userdict":
                changes.append("the user dictionary changed")
            elif key == "anchors":
                changes.append(f"anchor style {old.get(key) or '(none recorded)'} → {new.get(key)}")
            else:
                changes.append(f"{label} {old.get(key)} → {new.get(key)}")
    return "index was built with different settings: " + ", ".join(changes or ["unknown version"])


def _diff(files: dict[str, Path], manifest: dict[str, tuple[str, int, int]],
          report: IndexReport) -> tuple[list[ReadJob], set[str]]:
    """Decide what to (re)index. Returns the files read and paths kept as they were."""
    jobs: list[ReadJob] = []
    keep_old: set[str] = set()
    for rel, path in files.items():
        old = manifest.get(rel)
        try:
            st = path.stat()
            if old is not None and old[1] == st.st_mtime_ns and old[2] == st.st_size:
                report.unchanged += 1
                continue
            if st.st_size > MAX_ARTICLE_BYTES:
                raise ArticleError(f"too large ({st.st_size // 1024} KiB > {MAX_ARTICLE_BYTES // 1024} KiB)")
            with open(path, "rb") as f:
                raw = f.read(MAX_ARTICLE_BYTES + 1)
            if len(raw) > MAX_ARTICLE_BYTES:
                raise ArticleError(f"too large (> {MAX_ARTICLE_BYTES // 1024} KiB)")
        except ArticleError as exc:
            report.skipped.append((rel, str(exc)))
            if old is not None:
                keep_old.add(rel)
            continue
        except OSError as exc:
            report.skipped.append((rel, f"cannot read: {exc.strerror or exc}"))
            if old is not None:
                keep_old.add(rel)
            continue
        if old is not None and hashlib.sha256(raw).hexdigest() == old[0]:
            report.unchanged += 1  # touched, not changed
            continue
        (report.updated if old is not None else report.added).append(rel)
        jobs.append((rel, raw, st.st_mtime_ns))
    return jobs, keep_old


def _parsed(jobs: list[ParseJob], workers: int) -> Iterator[_Parsed | tuple[str, str]]:
    if workers <= 1 or len(jobs) < PARALLEL_THRESHOLD:
        yield from map(_parse_job, jobs)
        return
    import multiprocessing

    pool = multiprocessing.Pool(workers)
    try:
        yield from pool.imap(_parse_job, jobs, chunksize=16)
    except BaseException:
        pool.terminate()
        raise
    else:
        pool.close()
    finally:
        pool.join()


@contextmanager
def _abort_on_interrupt(gen_path: Path) -> Iterator[None]:
    """While worker processes run, Ctrl-C ends the run at once instead of
    raising ``KeyboardInterrupt``.

    A ``KeyboardInterrupt`` can land anywhere in the main thread, including
    between a lock's acquire and its ``try`` inside multiprocessing's queues
    (the parse pool's, Whoosh's sub-writers'); unwinding from there left a
    lock held that ``Pool.terminate`` or the queue finalizers at exit then
    waited on for ever (one Ctrl-C in ~100 hung in CI).  So the handler does
    not unwind: it kills the workers, removes the unpublished generation and
    exits 130.  Nothing is lost, because nothing is published before this
    context ends.  Installed only where Python's own Ctrl-C handling is in
    place (main thread, default handler): a host application that set its
    own handler keeps it.
    """
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return

    def abort(signum, frame) -> None:
        import multiprocessing

        children = [p.pid for p in multiprocessing.active_children() if p.pid]
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in children:  # dead before the folder goes: no writer re-creates files in it
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        shutil.rmtree(gen_path, ignore_errors=True)
        store.forget_lock_owner()
        try:
            os.write(2, f"\n{INTERRUPTED}\n".encode())
        finally:
            os._exit(130)

    previous = signal.signal(signal.SIGINT, abort)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _write(ix, gen_path: Path, jobs: list[ParseJob], report: IndexReport,
           cfg: IndexConfig, progress: ProgressFn | None) -> None:
    workers = cfg.workers or os.cpu_count() or 1
    if workers > 1 and len(jobs) >= PARALLEL_THRESHOLD:
        with _abort_on_interrupt(gen_path):
            writer = ix.writer(procs=workers, multisegment=True, limitmb=WRITER_LIMIT_MB, codec=ZhCodec())
            _feed(writer, jobs, report, workers, progress)
    else:
        _feed(ix.writer(limitmb=WRITER_LIMIT_MB, codec=ZhCodec()), jobs, report, 1, progress)


def _feed(writer, jobs: list[ParseJob], report: IndexReport, workers: int,
          progress: ProgressFn | None) -> None:
    updating = set(report.updated)
    try:
        for rel in report.deleted:
            writer.delete_by_term("path", rel)
        failed: set[str] = set()
        for done, item in enumerate(_parsed(jobs, workers), 1):
            if isinstance(item, tuple):
                rel, why = item
                report.skipped.append((rel, why))
                failed.add(rel)
            else:
                for w in item.warnings:
                    report.warnings.append((item.path, w))
                if item.path in updating:  # a failed re-parse keeps the old version
                    writer.update_document(**item.fields)
                else:
                    writer.add_document(**item.fields)
            if progress:
                progress(done, len(jobs))
        writer.commit()
    except BaseException:
        for task in getattr(writer, "tasks", ()):  # MpWriter.cancel() only flips a flag in our copy
            task.terminate()
        for task in getattr(writer, "tasks", ()):
            task.join(5)
        try:
            writer.cancel()
        except OSError:
            pass
        raise
    if failed:
        report.added = [p for p in report.added if p not in failed]
        report.updated = [p for p in report.updated if p not in failed]

