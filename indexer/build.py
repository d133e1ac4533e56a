"""Bring an index up to date with a corpus folder: plan, build, publish.

:func:`update_index` runs three steps, under the index's writer lock:

1. **plan** (:func:`_plan`): which analysis and site, whether the live
   generation can be updated in place (else a rebuild, and why), which
   files changed (:func:`scan_corpus`, then :func:`_diff`) and which
   articles are gone.  It reads, and writes nothing.  Incremental by
   default: a file whose size and mtime are unchanged is not even read; one
   whose bytes hash the same as before (a mere ``touch``) is not re-indexed.
2. **build** (:func:`_build`): a new generation (see :mod:`indexer.store`)
   that starts from hard links of the live one's segments, with the changes
   written into it.
3. **publish** (:func:`_publish`): its metadata, then the atomic switch, so
   readers never see a half-written index.

An article is read, parsed, analysed and filed into a Whoosh segment by one
process: a full build uses every core through
:class:`indexer.mpwrite.ParallelWriter`, whose worker processes each do all
of that for their share of the articles (only file bytes cross a process
boundary); a small update does it in the calling process.  Either way an
article becomes its fields in :mod:`indexer.document`.  The
:class:`~indexer.analysis.Analyzer` is the index's own, made from the
configuration and loaded once before workers fork.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import logging
import multiprocessing
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from whoosh import index as whoosh_index
from whoosh.util.numeric import typecode_max

from . import filenames, gitdates, lockfile, store, whoosh_compat
from .analysis import Analyzer
from .anchors import DEFAULT_STYLE, AnchorStyle
from .article import MAX_ARTICLE_BYTES, ArticleError, is_markdown
from .codec import ZhCodec
from .document import ParseJob, Skipped, parse_job
from .mpwrite import ParallelWriter
from .schema import build_schema, versions
from .segwriter import GroupedSegmentWriter
from .site import SiteConfig, SiteOverrides, detect_site, generator_for_style, parse_generator, site_for_style

log = logging.getLogger(__name__)

#: Folders never descended into: VCS data, dependencies, build output.
SKIP_DIRS = {"node_modules", "__pycache__", "_site", "public", "dist"}
#: Above this many changed articles, use the multi-process writer.
PARALLEL_THRESHOLD = 64

#: Postings a writer process holds before it writes a segment and starts
#: another (``indexer.segwriter``: ~32 bytes a posting): the development
#: corpus (3.6 M postings) fits in one segment per worker.
WRITER_LIMIT_MB = 256

ProgressFn = Callable[[int, int], None]


#: What an interrupted run tells the user (the CLI prints it too).
INTERRUPTED = "interrupted: the index is unchanged (the live generation was not touched)"
#: ... when the Ctrl-C came once the new generation was live (inside
#: publish()'s last fsync, or in the clean-up of old generations after it).
INTERRUPTED_PUBLISHED = ("interrupted after the new index was published: the index is up to date "
                         "(the next run removes the old generation)")


def interrupted_message(index_dir: Path, live_before: str | None) -> str:
    """What to tell a user whose Ctrl-C ended a run that started when
    ``live_before`` was the live generation.  The moment decides it, not the
    code that was running: a KeyboardInterrupt raised after ``CURRENT`` was
    replaced leaves the new index live, and saying "unchanged" then would be
    false (a kill loop in the fault tests caught exactly that)."""
    return INTERRUPTED if store.live_name(index_dir) == live_before else INTERRUPTED_PUBLISHED


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
    #: (kind, text): what the user should know about the run as a whole (why
    #: there are no git dates, say); ``kind`` lets a watch tell each kind once
    notes: list[tuple[str, str]] = field(default_factory=list)
    rebuilt: bool = False
    rebuild_reason: str | None = None
    #: the site generator and where its settings came from (indexer.site)
    site: str | None = None
    generation: str | None = None
    total: int = 0
    elapsed: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.deleted or self.rebuilt)


@dataclass(frozen=True)
class IndexConfig:
    """Which corpus, which index folder, and how to index it: what the
    options of ``zhsearch index`` say."""

    corpus: Path
    index: Path
    userdict: Path | None = None
    workers: int = 0  # 0: one per core
    segmenter: str = "auto"  # see indexer.segmenter.BACKENDS
    #: the site generator ("auto": detected from the site's config, see
    #: indexer.site); its URLs and heading ids are part of the index identity
    generator: str = "auto"
    #: the older way to name the generator, by its heading-id style (used
    #: when ``generator`` is "auto"); None: not given
    anchor_style: AnchorStyle | None = None
    #: overrides of what the site's config says (``--base-path``, ``--clean-urls``)
    base_path: str | None = None
    clean_urls: bool | None = None
    #: seconds the whole git step may take (0: no git dates)
    git_timeout: float = gitdates.GIT_TIMEOUT_S
    #: a watch embeds the articles after each update, when the extra is installed
    #: (``indexer.embeddings``); the commands turn it on (``ZHSEARCH_EMBEDDINGS``)
    embeddings: bool = False

    def site(self) -> SiteConfig:
        """The corpus's site as this configuration resolves it (reads the
        site's config file now: a changed config is seen by the next update)."""
        gen = parse_generator(self.generator)
        style = AnchorStyle.parse(self.anchor_style) if self.anchor_style is not None else None
        if gen is None and style is not None:  # --anchor-style names the generator...
            gen = generator_for_style(style)
        # ...and the exact id style (hexo-lower, hugo-github-ascii), not that generator's default
        return detect_site(Path(self.corpus), SiteOverrides(gen, self.base_path, self.clean_urls, anchors=style))

    def resolved_userdict(self) -> Path | None:
        if self.userdict is not None:
            return self.userdict
        default = Path(self.corpus) / "userdict.txt"
        return default if default.is_file() else None

    def analyzer(self) -> Analyzer:
        """The analyzer an index built from this configuration has."""
        return Analyzer(self.resolved_userdict(), segmenter=self.segmenter,
                        cache_dir=store.jieba_cache_dir(self.index))

    def matches(self, analyzer: Analyzer) -> bool:
        """``analyzer`` analyses the way this configuration asks (a long-lived
        process keeps one across updates while the configuration holds)."""
        return analyzer.identity == self.analyzer().identity


class ChangedFile(NamedTuple):
    """An article file the plan found new or changed, read: it becomes a
    :class:`~indexer.document.ParseJob` once git has dated it."""

    path: str  # the index key
    raw: bytes
    mtime_ns: int


class ManifestEntry(NamedTuple):
    """What the live generation holds of one article: enough to tell
    whether its file changed."""

    hash: str  # sha256 of the file's bytes
    mtime_ns: int
    size: int


@dataclass
class UpdatePlan:
    """What a run is to do, decided before anything is written (the report
    says which articles are added, updated, deleted and skipped)."""

    corpus: Path
    analyzer: Analyzer
    site: SiteConfig
    #: what the new generation's metadata records (see :func:`index_identity`)
    identity: dict
    #: the live generation the update starts from; None for a rebuild
    current: store.Generation | None
    #: what the live generation holds (empty for a rebuild)
    manifest: dict[str, ManifestEntry]
    #: the new and changed files, read
    changed: list[ChangedFile]


# ------------------------------------------------------------------ the update

def update_index(cfg: IndexConfig, *, rebuild: bool = False, wait: float = 0.0,
                 progress: ProgressFn | None = None, analyzer: Analyzer | None = None) -> IndexReport:
    """Make the index at ``cfg.index`` reflect ``cfg.corpus``: plan, build,
    publish (see the module docstring).

    ``analyzer``: one a long-lived process already holds (``--watch``), used
    when it analyses the way ``cfg`` asks; otherwise one is made from
    ``cfg`` (and loaded only if some article needs analysing)."""
    t0 = time.perf_counter()
    corpus = Path(cfg.corpus)
    if not corpus.is_dir():
        raise FileNotFoundError(f"corpus folder {corpus} does not exist")
    report = IndexReport(corpus=str(corpus), index=str(cfg.index))
    whoosh_compat.install()  # an unknown Whoosh stops here, before anything is written
    with store.writer_lock(cfg.index, wait=wait):
        store.collect_garbage(cfg.index)
        plan = _plan(cfg, report, rebuild=rebuild, analyzer=analyzer)
        if not report.changed:
            report.total = len(plan.manifest)
        gen_path = _build(plan, cfg, report, progress) if report.changed else None
        if gen_path is not None:
            _publish(plan, cfg.index, report, gen_path)
        else:  # nothing changed, or every changed article failed to parse
            report.generation = plan.current.name if plan.current else None
    report.elapsed = time.perf_counter() - t0
    return report


# ------------------------------------------------------------ step 1: plan

def _plan(cfg: IndexConfig, report: IndexReport, *, rebuild: bool, analyzer: Analyzer | None) -> UpdatePlan:
    """Step 1: decide with which analysis and site, from which generation,
    and which files to (re)index and which articles to delete.  Reads the
    index and the corpus, writes nothing."""
    if analyzer is None or not cfg.matches(analyzer):
        analyzer = cfg.analyzer()
    site = cfg.site()
    report.site = site.describe()
    identity = index_identity(analyzer, site)
    current, manifest = _live_manifest(cfg.index, identity, rebuild, report)

    corpus = Path(cfg.corpus)
    files, skipped = scan_corpus(corpus)
    report.skipped.extend(skipped)
    changed, keep_old = _diff(files, manifest, report)
    unlisted = [p for p, why in skipped if why.startswith("cannot list directory")]
    keep_old |= {p for p in manifest if any(p.startswith(d.rstrip("/") + "/") for d in unlisted)}
    report.deleted = sorted(p for p in manifest if p not in files and p not in keep_old)
    return UpdatePlan(corpus, analyzer, site, identity, current, manifest, changed)


def index_identity(analyzer: Analyzer, site: SiteConfig | AnchorStyle | str = DEFAULT_STYLE) -> dict:
    """What decides whether an index can be updated in place: the schema,
    everything about the analysis (version, user dictionary, segmenter), the
    anchor style its sections were given and the site settings its URLs
    were made with."""
    if not isinstance(site, SiteConfig):
        site = site_for_style(site)
    return {**versions(), **analyzer.identity, "anchors": site.anchors.value, "site": site.identity()}


def recorded_identity(identity: dict) -> dict:
    """A generation's recorded identity as :func:`index_identity` writes it
    now: indexes built before had the anchor style under "site" too, a copy
    of "anchors" (compared on its own), which must not force a rebuild."""
    site = identity.get("site")
    if isinstance(site, dict) and "anchors" in site:
        identity = {**identity, "site": {k: v for k, v in site.items() if k != "anchors"}}
    return identity


def _live_manifest(index_dir: Path, identity: dict, rebuild: bool,
                   report: IndexReport) -> tuple[store.Generation | None, dict[str, ManifestEntry]]:
    """The live generation and what it holds, when it can be updated in
    place; otherwise ``(None, {})`` and the report says why it is rebuilt."""
    current = None
    manifest: dict[str, ManifestEntry] = {}
    reason = "requested (--rebuild)" if rebuild else None
    if not rebuild:
        try:
            cur = store.read_current(index_dir)
            if cur is None:
                reason = "no index yet"
            elif (built := recorded_identity(cur.meta.get("identity") or {})) != identity:
                reason = _identity_change(built, identity)
            else:
                ix, current = store.open_current(index_dir)
                manifest = _manifest(ix)
                ix.close()
        except Exception as exc:
            reason = f"existing index unusable ({exc})"
    if reason:
        report.rebuilt = True
        report.rebuild_reason = reason
        if reason not in ("no index yet", "requested (--rebuild)"):
            log.warning("rebuilding the index: %s", reason)
        current = None
    return current, manifest


def _manifest(ix) -> dict[str, ManifestEntry]:
    """path → what the index holds of it, for every live document, from columns."""
    out: dict[str, ManifestEntry] = {}
    with ix.reader() as r:
        paths = r.column_reader("path")
        hashes = r.column_reader("hash")
        mtimes = r.column_reader("mtime_ns")
        sizes = r.column_reader("size")
        for docnum in r.all_doc_ids():
            out[paths[docnum]] = ManifestEntry(hashes[docnum].decode("ascii"), mtimes[docnum], sizes[docnum])
    return out


def _identity_change(old: dict, new: dict) -> str:
    changes = []
    for key, label in (("schema", "schema version"), ("analysis", "analysis version"),
                       ("userdict", "user dictionary"), ("segmenter", "segmenter"),
                       ("anchors", "anchor style"), ("site", "site")):
        if old.get(key) != new.get(key):
            if key == "userdict":
                changes.append("the user dictionary changed")
            elif key == "anchors":
                changes.append(f"anchor style {old.get(key) or '(none recorded)'} → {new.get(key)}")
            elif key == "site":
                changes.append(_site_change(old.get(key) or {}, new.get(key) or {}))
            else:
                changes.append(f"{label} {old.get(key)} → {new.get(key)}")
    return "index was built with different settings: " + ", ".join(changes or ["unknown version"])


def _site_change(old: dict, new: dict) -> str:
    """``site: generator vuepress → hexo, base / → /blog/``: what moved URLs."""
    if not old:
        return f"site settings (none recorded) → generator {new.get('generator')}"
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return "site " + ", ".join(f"{k} {old.get(k)!r} → {new.get(k)!r}" for k in keys)


def scan_corpus(root: Path) -> tuple[dict[str, Path], list[tuple[str, str]]]:
    """All markdown files under ``root`` by index key, plus skipped ones.

    The key is the corpus-relative path (:func:`indexer.filenames.key`: the
    path itself unless a name is not UTF-8).  Symlinked directories are not
    followed (no loops); symlinked files are.  :func:`corpus_dirs` lists the
    folders this scan descends into.
    """
    found: dict[str, Path] = {}
    skipped: list[tuple[str, str]] = []

    def onerror(exc: OSError) -> None:
        rel = _rel(Path(exc.filename), root) if exc.filename else "?"
        skipped.append((rel, f"cannot list directory: {exc.strerror}"))

    for base, dirnames, names in _walk(root, onerror):
        for d in dirnames:
            if is_markdown(Path(d)):
                skipped.append((_rel(base / d, root), "is a directory, not an article"))
        for name in sorted(names):
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


def corpus_dirs(root: Path) -> list[Path]:
    """Every folder :func:`scan_corpus` descends into, ``root`` first: what a
    watch must watch (the same rule: no symlinked, hidden or skipped folders)."""
    return [base for base, _, _ in _walk(root)]


def skips_folder(name: str) -> bool:
    """Whether the corpus rule never descends into a folder of this name:
    dot-folders and :data:`SKIP_DIRS` (symlinked folders are not followed
    either, whatever their name)."""
    return name.startswith(".") or name in SKIP_DIRS


def _walk(root: Path, onerror: Callable[[OSError], None] | None = None) -> Iterator[tuple[Path, list[str], list[str]]]:
    """``os.walk`` by the corpus rule: symlinked folders and the folders
    :func:`skips_folder` names are not descended into."""
    for dirpath, dirnames, names in os.walk(root, onerror=onerror, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not skips_folder(d))
        yield Path(dirpath), dirnames, names


def _rel(path: Path, root: Path) -> str:
    """The index key of ``path`` (see :mod:`indexer.filenames`)."""
    try:
        return filenames.key(path.relative_to(root).as_posix())
    except ValueError:
        return filenames.key(path.as_posix())


def _diff(files: dict[str, Path], manifest: dict[str, ManifestEntry],
          report: IndexReport) -> tuple[list[ChangedFile], set[str]]:
    """Decide what to (re)index. Returns the files read and paths kept as they were."""
    changed: list[ChangedFile] = []
    keep_old: set[str] = set()
    for rel, path in files.items():
        old = manifest.get(rel)
        try:
            st = path.stat()
            if old is not None and old.mtime_ns == st.st_mtime_ns and old.size == st.st_size:
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
        if old is not None and hashlib.sha256(raw).hexdigest() == old.hash:
            report.unchanged += 1  # touched, not changed
            continue
        (report.updated if old is not None else report.added).append(rel)
        changed.append(ChangedFile(rel, raw, st.st_mtime_ns))
    return changed, keep_old


# ----------------------------------------------------------- step 2: build

def _build(plan: UpdatePlan, cfg: IndexConfig, report: IndexReport, progress: ProgressFn | None) -> Path | None:
    """Step 2: write a new generation — the live one's segments (hard links)
    plus the changes, or every article for a rebuild — and return its
    folder; None when there is nothing to publish (every changed article
    failed to parse).  Never publishes."""
    jobs, dates = _with_dates(plan.corpus, plan.changed, plan.site, cfg.git_timeout)
    gen_path = store.new_generation(cfg.index, None if report.rebuilt else plan.current.path)
    with _removed_unless_live(cfg.index, gen_path):
        userdict = cfg.resolved_userdict()
        if userdict:  # queries must segment with exactly this dictionary
            shutil.copyfile(userdict, gen_path / store.USERDICT)
        if report.rebuilt:
            ix = whoosh_index.create_in(str(gen_path), build_schema())
        else:
            ix = whoosh_index.open_dir(str(gen_path))
        _write(ix, gen_path, jobs, report, cfg, plan.analyzer, progress)
        report.total = ix.doc_count()
        if dates is not None:
            report.notes.extend(_date_notes(dates, ix, report.total))
        expected = len(set(plan.manifest) - set(report.deleted) | set(report.added))
        if report.total != expected:
            raise RuntimeError(f"the index writer lost documents ({report.total} written, "
                               f"{expected} expected); the live index was not changed")
        ix.close()
        if not report.changed:  # every candidate failed to parse: nothing to publish
            shutil.rmtree(gen_path, ignore_errors=True)
            return None
    return gen_path


def _with_dates(corpus: Path, changed: list[ChangedFile], site: SiteConfig,
                timeout: float) -> tuple[list[ParseJob], gitdates.GitDates | None]:
    """Parse jobs: each file with the date git knows for it (one ``git log``
    for all of them, within ``timeout`` seconds; used when the front matter
    has no date), and what git said."""
    dates = gitdates.collect(corpus, [f.path for f in changed], timeout=timeout) if changed else None
    return [ParseJob(f.path, f.raw, f.mtime_ns, dates.date_for(f.path, f.mtime_ns) if dates else None, site)
            for f in changed], dates


def _date_notes(dates: gitdates.GitDates, ix, total: int) -> list[tuple[str, str]]:
    """One line for each reason the user can fix that articles have no git date."""
    if dates.problem is None and not dates.shallow_cut:
        return []
    with ix.reader() as r:
        column = r.column_reader("date", translate=False)  # a missing date is the column's largest value
        undated = sum(1 for docnum in r.all_doc_ids() if column[docnum] == typecode_max["Q"])
    counted = f"{undated} of {total} articles have no date"
    if dates.problem is not None:
        return [("git", f"no dates from git: {dates.problem}; {counted}")]
    return [("git-shallow", f"the git history is shallow (a shallow clone): it does not tell when "
             f"{dates.shallow_cut} files last changed, so they get no date from git ({counted}); "
             f"`git -C {dates.toplevel} fetch --unshallow` fetches the history")]


def _write(ix, gen_path: Path, jobs: list[ParseJob], report: IndexReport, cfg: IndexConfig,
           analyzer: Analyzer, progress: ProgressFn | None) -> None:
    """Delete, parse, analyse and write into ``ix``: in worker processes
    when there are many articles, in this process when there are few."""
    workers = cfg.workers or os.cpu_count() or 1
    analyzer.load()  # once, here: forked writers inherit it
    if workers > 1 and len(jobs) >= PARALLEL_THRESHOLD:
        with _abort_on_interrupt(gen_path):
            writer = ParallelWriter(ix, analyzer, workers, WRITER_LIMIT_MB, codec=ZhCodec())
            _feed_parallel(writer, jobs, report, progress)
    else:
        with _no_cyclic_gc():
            _feed(GroupedSegmentWriter(ix, codec=ZhCodec()), jobs, report, analyzer, progress)


@contextmanager
def _abort_on_interrupt(gen_path: Path) -> Iterator[None]:
    """While worker processes run, Ctrl-C ends the run at once instead of
    raising ``KeyboardInterrupt``.

    A ``KeyboardInterrupt`` can land anywhere in the main thread, including
    between a lock's acquire and its ``try`` inside multiprocessing's queues
    (the writer processes' job and outcome queues, :mod:`indexer.mpwrite`);
    unwinding from there left a lock held that stopping the workers or the
    queue finalizers at exit then waited on for ever (one Ctrl-C in ~100
    hung in CI).  So the handler does
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
        lockfile.forget_owners()
        try:
            os.write(2, f"\n{INTERRUPTED}\n".encode())
        finally:
            os._exit(130)

    previous = signal.signal(signal.SIGINT, abort)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Writing allocates millions of small, acyclic objects that live until
    the segment is written; the cyclic collector's passes over them cost a
    third of the time (see ``indexer.mpwrite``, whose workers run without it)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _feed(writer, jobs: list[ParseJob], report: IndexReport, analyzer: Analyzer,
          progress: ProgressFn | None) -> None:
    """Parse, analyse and write in this process (small updates)."""
    updating = set(report.updated)
    failed: set[str] = set()
    try:
        for rel in report.deleted:
            writer.delete_by_term("path", rel)
        for done, job in enumerate(jobs, 1):
            item = parse_job(job, analyzer)
            if isinstance(item, Skipped):
                report.skipped.append((item.path, item.reason))
                failed.add(item.path)
            else:
                report.warnings.extend((item.path, w) for w in item.warnings)
                if item.path in updating:  # a failed re-parse keeps the old version
                    writer.update_document(**item.fields)
                else:
                    writer.add_document(**item.fields)
            if progress:
                progress(done, len(jobs))
        writer.commit()
    except BaseException:
        whoosh_compat.stop_writer(writer)
        raise
    _forget_failed(report, failed)


def _feed_parallel(writer, jobs: list[ParseJob], report: IndexReport, progress: ProgressFn | None) -> None:
    """Hand the jobs to the writer's workers; they parse, analyse and write.

    An updated article's old version is deleted only once its new one has
    been written, so a failed re-parse keeps the old version."""
    try:
        for rel in report.deleted:
            writer.delete_by_term("path", rel)
        for job in jobs:
            writer.add_job(job)
            if progress:
                progress(writer.done, len(jobs))
        outcomes = writer.wait_for_jobs(len(jobs), progress)
        updating = set(report.updated)
        failed: set[str] = set()
        for out in outcomes:
            if out.reason is not None:
                report.skipped.append((out.path, out.reason))
                failed.add(out.path)
                continue
            report.warnings.extend((out.path, w) for w in out.warnings)
            if out.path in updating:
                writer.delete_by_term("path", out.path)  # the old version: the new one is in a new segment
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    _forget_failed(report, failed)


def _forget_failed(report: IndexReport, failed: set[str]) -> None:
    """Articles that failed to parse were neither added nor updated."""
    if failed:
        report.added = [p for p in report.added if p not in failed]
        report.updated = [p for p in report.updated if p not in failed]


# --------------------------------------------------------- step 3: publish

def _publish(plan: UpdatePlan, index_dir: Path, report: IndexReport, gen_path: Path) -> None:
    """Step 3: record the new generation's metadata, make it the live one,
    and remove generations no reader needs any more."""
    with _removed_unless_live(index_dir, gen_path):
        now = dt.datetime.now().isoformat(timespec="seconds")
        current = plan.current
        store.write_meta(gen_path, {
            "identity": plan.identity,
            "corpus": str(plan.corpus.resolve()),
            "documents": report.total,
            "updated": now,
            "built": now if report.rebuilt else (current.meta.get("built") if current else now),
        })
        store.publish(index_dir, gen_path)
    report.generation = gen_path.name
    store.collect_garbage(index_dir)


@contextmanager
def _removed_unless_live(index_dir: Path, gen_path: Path) -> Iterator[None]:
    """An unfinished generation is removed when anything stops the run (or
    by the next run, if this one is killed): it was never published.  A
    Ctrl-C can land inside ``store.publish`` after ``CURRENT`` already names
    it: then it is the live index and must stay."""
    try:
        yield
    except BaseException:
        if not store.is_live(index_dir, gen_path):
            shutil.rmtree(gen_path, ignore_errors=True)
        raise
