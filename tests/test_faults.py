"""Fault injection: the real ``zhsearch`` CLI killed mid-run, files changing
under it, a full disk, a damaged index, a huge corpus of tiny files.

Every test here runs the indexer as a separate process (``python -m
zhsearch``) the way a person or a cron job does, and checks the index
afterwards with :class:`search.Engine`, the way the site does.  The table of
what is tried lives in ``docs/RELIABILITY.md``; keep the two in step.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from indexer import build, store
from indexer.article import MAX_ARTICLE_BYTES
from indexer.build import IndexConfig, update_index
from search.engine import Engine, search
from tests.conftest import CORPUS, ROOT, write_article

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses Linux process and mount APIs")

CLI = [sys.executable, "-m", "zhsearch"]
INTERRUPTED = "interrupted: the index is unchanged"
PUBLISHED = "interrupted after the new index was published: the index is up to date"


# --------------------------------------------------------------------- helpers


def _env() -> dict[str, str]:
    # no ZHSEARCH_* setting of the caller's, but its embeddings switch: the test session turns
    # them off, so an update's run is the lexical update alone
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHSEARCH_") or k == "ZHSEARCH_EMBEDDINGS"}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def cli(*args: str, timeout: float = 120, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """Run ``zhsearch ARGS`` to completion."""
    return subprocess.run([*prefix, *CLI, *args], cwd=ROOT, env=_env(), capture_output=True, text=True,
                          timeout=timeout)


def start_cli(*args: str) -> subprocess.Popen:
    """Start ``zhsearch ARGS`` as the leader of its own process group (like a
    job started from a shell), so the whole job can be signalled as a
    terminal's Ctrl-C does."""
    return subprocess.Popen([*CLI, *args], cwd=ROOT, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            pids.append(int(entry))
    return pids


def kill_group(pgid: int) -> None:
    """Teardown: SIGKILL whatever is left of a process group this test started."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def wait_group_empty(pgid: int, timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = group_members(pgid)
        if not left:
            return []
        time.sleep(0.1)
    return group_members(pgid)


def finish(proc: subprocess.Popen, timeout: float = 20) -> tuple[int, str, str]:
    """Wait for a started CLI; a hang is a failure, never a stuck test."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc.pid)
        out, err = proc.communicate()
        pytest.fail(f"zhsearch did not exit within {timeout} s after the fault; stderr:\n{err[-3000:]}")
    return proc.returncode, out, err


def corpus_state(corpus: Path) -> dict[str, str]:
    """path → sha256 of every article file, as the indexer should see it."""
    out = {}
    for p in corpus.rglob("*"):
        if p.suffix.lower() in (".md", ".markdown") and p.is_file() and not p.is_symlink():
            out[p.relative_to(corpus).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def index_state(index: Path, query: str = "模型") -> dict[str, str]:
    """path → content hash of every indexed article, read through a fresh
    :class:`Engine` after checking that it answers a query."""
    engine = Engine(index)
    search(engine, query)  # answers (raises if the index cannot be used)
    gen = engine.generation()
    searcher = gen.searcher()
    try:
        r = searcher.reader()
        paths, hashes = r.column_reader("path"), r.column_reader("hash")
        return {paths[d]: hashes[d].decode("ascii") for d in r.all_doc_ids()}
    finally:
        searcher.close()
        gen.ix.close()


def current_name(index: Path) -> str:
    return (index / store.CURRENT).read_text(encoding="utf-8").strip()


def generation_files(index: Path) -> dict[str, int]:
    gen = index / current_name(index)
    return {f.name: f.stat().st_size for f in gen.iterdir()}


def small_articles(root: Path, n: int, size: int = 1500, copies: int = 1) -> Path:
    """``n`` real articles of the embedded corpus, each cut to about ``size``
    bytes, written ``copies`` times under different names (more work for the
    worker processes without inventing text)."""
    root.mkdir(parents=True, exist_ok=True)
    sources = sorted(CORPUS.rglob("*.md"))
    assert len(sources) >= n
    for i, src in enumerate(sources[:n]):
        text = src.read_text(encoding="utf-8")[:size]
        if "\n" in text:
            text = text[: text.rfind("\n") + 1]
        for k in range(copies):
            name = f"a{i:03d}.md" if copies == 1 else f"a{i:03d}-{k}.md"
            (root / name).write_text(text, encoding="utf-8")
    return root


def new_index_dir(path: Path) -> Path:
    """An empty index folder."""
    path.mkdir(parents=True)
    return path


def skipped_lines(stderr: str) -> dict[str, str]:
    out = {}
    for line in stderr.splitlines():
        if line.startswith("skipped  "):
            path, _, reason = line[len("skipped  "):].partition(": ")
            out[path] = reason
    return out


def no_traceback(text: str) -> None:
    assert "Traceback (most recent call last)" not in text, f"traceback printed:\n{text[-4000:]}"


def no_main_traceback(text: str) -> None:
    """No traceback from the indexer itself; a worker process's dying words
    (``Process SubWriterTask-3:`` + traceback, printed by multiprocessing) are
    tolerated as long as the last line is a clear ``Error:``."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Traceback (most recent call last)"):
            assert i > 0 and re.fullmatch(r"Process \S+:", lines[i - 1]), f"traceback printed:\n{text[-4000:]}"
    last = [ln for ln in lines if ln.strip()][-1:]
    assert last and last[0].startswith("Error:"), f"the last line is not a clear error:\n{text[-2000:]}"


# ----------------------------------------------------------------- kill loop


def _mutate(corpus: Path, rng: random.Random, step: int, pool: list[str]) -> None:
    """Add, change and delete a few articles so an incremental run has work."""
    files = sorted(corpus.glob("*.md"))
    for _ in range(rng.randint(1, 2)):
        write_article(corpus, f"new-{step:02d}-{rng.randrange(10**6):06d}.md", rng.choice(pool))
    if files:
        victim = rng.choice(files)
        victim.write_text(victim.read_text(encoding="utf-8") + f"\n第 {step} 次修改：补充说明。\n",
                          encoding="utf-8")
    if len(files) > 40:
        rng.choice(files).unlink()


@pytest.mark.slow
def test_kill_loop_incremental_and_rebuild(tmp_path):
    """``zhsearch index`` killed at random points, 24 times, alternating
    SIGKILL and SIGINT (to the whole process group, as a terminal or service
    manager does) and incremental / ``--rebuild`` runs, while a long-lived
    engine keeps searching.  After every kill the index opens, answers, and
    holds exactly the articles of the state before the run or of the corpus
    the run started from; the next run is never blocked; the last run
    converges to the corpus exactly."""
    corpus = small_articles(tmp_path / "c", 70)  # ≥ 64: a --rebuild uses the parallel writer
    pool = [p.read_text(encoding="utf-8") for p in sorted(corpus.glob("*.md"))[:20]]
    index = new_index_dir(tmp_path / "ix")
    rng = random.Random(20240601)
    # how long an unkilled run of each kind takes here, so kills land at
    # random points of the run rather than after it
    typical: dict[bool, float] = {}
    for rebuild in (True, False):
        _mutate(corpus, rng, 99, pool)
        t0 = time.monotonic()
        r = cli("index", "--corpus", str(corpus), "--index", str(index), *(["--rebuild"] if rebuild else []))
        typical[rebuild] = time.monotonic() - t0
        assert r.returncode == 0, r.stderr

    server = Engine(index)  # the site: one engine for the whole loop
    errors: list[str] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                search(server, "模型 训练")
            except Exception as exc:  # any failure is the finding
                errors.append(f"{type(exc).__name__}: {exc}")
            stop.wait(0.05)

    reader = threading.Thread(target=serve, daemon=True)
    reader.start()
    log: list[str] = []
    stale_recovered = 0
    try:
        for i in range(24):
            _mutate(corpus, rng, i, pool)
            before = index_state(index)
            target = corpus_state(corpus)
            rebuild = i % 2 == 1
            sig = (signal.SIGKILL, signal.SIGKILL, signal.SIGINT, signal.SIGINT)[i % 4]
            delay = rng.uniform(0.1, 1.1) * typical[rebuild]
            args = ["index", "--corpus", str(corpus), "--index", str(index)] + (["--rebuild"] if rebuild else [])
            proc = start_cli(*args)
            try:
                t0 = time.monotonic()
                try:
                    proc.wait(delay)
                    killed = False
                    typical[rebuild] = time.monotonic() - t0
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, sig)
                    killed = True
                rc, _out, err = finish(proc, 20)
                left = wait_group_empty(proc.pid, 10)
            finally:
                kill_group(proc.pid)
            stale_recovered += "recovered a stale lock" in err
            what = f"#{i} {'rebuild' if rebuild else 'update'} {sig.name if killed else 'no kill'} " \
                   f"after {delay:.2f}s → rc {rc}"
            log.append(what)
            ctx = what + "\n" + "\n".join(log) + f"\nstderr:\n{err[-2000:]}"
            assert not left, f"processes survived the kill: {left}\n{ctx}"
            assert "another `zhsearch index`" not in err, f"blocked by a lock\n{ctx}"
            after = index_state(index)  # opens and answers, or raises
            assert after in (before, target), (
                f"index is neither the old nor the new state: "
                f"missing {sorted(set(before) & set(target) - set(after))}, "
                f"extra {sorted(set(after) - set(before) - set(target))}\n{ctx}")
            if rc == 0:
                assert after == target, ctx
            elif rc == 130 and PUBLISHED in err:  # the Ctrl-C came once the new index was live
                assert after == target, f"says published but the index is not the corpus\n{ctx}"
            elif rc == 130:
                assert INTERRUPTED in err, ctx
                assert after == before, f"says unchanged but the index changed\n{ctx}"
            elif sig == signal.SIGKILL:
                assert rc == -signal.SIGKILL, ctx
            else:
                # Ctrl-C outside the indexing itself: while Python imports
                # (click prints "Aborted!", rc 1) or while the interpreter
                # shuts down after the run (rc -2); either state is whole.
                assert rc in (1, -signal.SIGINT), ctx
    finally:
        stop.set()
        reader.join(10)

    print("\n".join(log))
    r = cli("index", "--corpus", str(corpus), "--index", str(index))
    assert r.returncode == 0, r.stderr
    stale_recovered += "recovered a stale lock" in r.stderr
    assert index_state(index) == corpus_state(corpus)
    assert search(server, "模型").total > 0  # the long-lived engine followed along
    assert not errors, f"searches failed while indexing was killed: {errors[:5]}"
    gens = sorted(p.name for p in index.glob("gen-*"))
    assert len(gens) <= 2 and current_name(index) in gens, gens
    assert not list(index.glob("*.tmp")) and (index / store.LOCK).read_text() == ""
    assert sum("SIGKILL" in line for line in log) >= 5 and sum("SIGINT" in line for line in log) >= 5, log
    assert stale_recovered >= 1, "no run reported recovering the lock of a killed indexer:\n" + "\n".join(log)


# -------------------------------------------------------- Ctrl-C, kill -9, lock


def _wait_for(cond, timeout: float, proc: subprocess.Popen) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.02)
    return False


def _fd_targets(pid: int) -> set[str]:
    out = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                out.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
            except OSError:
                pass
    except OSError:
        pass
    return out


def writer_processes(proc: subprocess.Popen, index: Path) -> list[int]:
    """Whoosh sub-writer processes of a running indexer: they open segment
    files of their own in the new generation, while parse workers only hold
    descriptors inherited from the indexer."""
    parent = _fd_targets(proc.pid)
    return [pid for pid in group_members(proc.pid) if pid != proc.pid
            and any(t.startswith(str(index)) and t not in parent for t in _fd_targets(pid))]


@pytest.fixture(scope="module")
def built_parallel(tmp_path_factory):
    """A corpus big enough for the parallel writer, indexed once (copy before use)."""
    root = tmp_path_factory.mktemp("builtpar")
    # big jobs, and enough of them that a rebuild's worker phase lasts well
    # over a second: the Ctrl-C tests must land their signal inside the work
    # (at 70 × 4 KB the whole rebuild once took 0.9 s and a delayed signal
    # arrived after it had finished)
    corpus = small_articles(root / "c", 70, size=8000, copies=4)
    index = new_index_dir(root / "ix")
    r = cli("index", "--corpus", str(corpus), "--index", str(index))
    assert r.returncode == 0, r.stderr
    return corpus, index


def _copy_built(built, tmp_path) -> tuple[Path, Path]:
    corpus, index = built
    c, ix = tmp_path / "c", tmp_path / "ix"
    shutil.copytree(corpus, c)
    shutil.copytree(index, ix)
    return c, ix


@pytest.mark.slow
@pytest.mark.parametrize("phase", ["parse workers", "index writers"])
@pytest.mark.parametrize("target", ["process group (Ctrl-C)", "indexer only (kill -INT)"])
def test_sigint_during_a_parallel_rebuild(built_parallel, tmp_path, target, phase):
    """Ctrl-C while the worker processes run: exit 130 with the one-line
    message, no traceback from any process, nothing left running, the live
    generation untouched and the unfinished one removed."""
    corpus, index = _copy_built(built_parallel, tmp_path)
    before, gen_before = index_state(index), current_name(index)
    proc = start_cli("index", "--corpus", str(corpus), "--index", str(index), "--rebuild")
    try:
        def workers_busy() -> bool:
            # workers that have been running for a moment: the signal lands in
            # their work, not in the instant of a fork
            if phase == "parse workers":
                ready = lambda: len(group_members(proc.pid)) > 1
            else:
                ready = lambda: bool(writer_processes(proc, index))
            if not ready():
                return False
            time.sleep(0.05)
            return ready()

        assert _wait_for(workers_busy, 30, proc), f"the rebuild finished before its {phase} started"
        if target.startswith("process group"):
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGINT)
        rc, _out, err = finish(proc, 20)
        left = wait_group_empty(proc.pid, 10)
    finally:
        kill_group(proc.pid)
    assert rc == 130, err
    assert INTERRUPTED in err
    no_traceback(err)
    assert not left, f"worker processes still running after Ctrl-C: {left}"
    assert current_name(index) == gen_before
    assert index_state(index) == before
    assert sorted(p.name for p in index.glob("gen-*")) == [gen_before]  # unfinished one removed
    r = cli("index", "--corpus", str(corpus), "--index", str(index))
    assert r.returncode == 0, r.stderr


@pytest.mark.slow
def test_ctrl_c_at_any_moment_of_a_parallel_rebuild(built_parallel, tmp_path):
    """The same Ctrl-C landed at a spread of moments after the workers start
    (CI once caught one, ~1 run in 100, that hung for ever: the interrupt
    had landed inside a multiprocessing queue and left its lock held).
    Each run must end 130 with the message, the index untouched, and must
    leave no stale-lock story for the next run."""
    corpus, index = _copy_built(built_parallel, tmp_path)
    before, gen_before = index_state(index), current_name(index)
    for delay in (0.0, 0.01, 0.03, 0.06, 0.1, 0.15, 0.25, 0.4):
        proc = start_cli("index", "--corpus", str(corpus), "--index", str(index), "--rebuild")
        try:
            assert _wait_for(lambda proc=proc: len(group_members(proc.pid)) > 1, 30, proc), "no workers started"
            time.sleep(delay)
            assert proc.poll() is None, f"the rebuild finished within {delay} s of its workers starting"
            os.kill(proc.pid, signal.SIGINT)
            rc, _out, err = finish(proc, 20)
            left = wait_group_empty(proc.pid, 10)
        finally:
            kill_group(proc.pid)
        ctx = f"Ctrl-C {delay} s after the workers started: {err[-2000:]}"
        assert rc == 130, ctx
        assert INTERRUPTED in err, ctx
        assert "stale lock" not in err, ctx
        no_traceback(err)
        assert not left, ctx
        assert sorted(p.name for p in index.glob("gen-*")) == [gen_before], ctx
    assert current_name(index) == gen_before
    assert index_state(index) == before


@pytest.mark.slow
@pytest.mark.parametrize("phase", ["parse workers", "index writers"])
def test_kill_9_of_the_indexer_alone_leaves_no_lock_behind(built_parallel, tmp_path, phase):
    """``kill -9 PID`` (or the OOM killer) hits only the indexer process, not
    its worker processes.  The workers must not outlive it holding the
    index lock: the next ``zhsearch index`` runs, and says it recovered the
    lock of a dead process."""
    corpus, index = _copy_built(built_parallel, tmp_path)
    before = index_state(index)

    proc = start_cli("index", "--corpus", str(corpus), "--index", str(index), "--rebuild")
    try:
        if phase == "parse workers":
            cond = lambda: len(group_members(proc.pid)) > 1
        else:
            cond = lambda: bool(writer_processes(proc, index))
        assert _wait_for(cond, 30, proc), f"the rebuild finished before its {phase} started"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        orphans = wait_group_empty(proc.pid, 5)
        r = cli("index", "--corpus", str(corpus), "--index", str(index), timeout=60)
        holders = [pid for pid in orphans if os.path.exists(f"/proc/{pid}")]
    finally:
        kill_group(proc.pid)
    assert r.returncode == 0, (f"next run refused; processes left by the killed indexer: {holders}\n"
                               f"{r.stderr[-1500:]}")
    assert f"recovered a stale lock left by pid {proc.pid}" in r.stderr
    assert not orphans, f"worker processes outlived the killed indexer: {orphans}"
    assert index_state(index) == before == corpus_state(corpus)


@pytest.mark.slow
def test_a_killed_writer_process_loses_no_articles(built_parallel, tmp_path):
    """The OOM killer (or a crash) takes one of the parallel index-writer
    processes.  The run must not publish an index that silently lacks that
    process's articles: it fails and keeps the old index, or it completes
    the work some other way."""
    corpus, index = _copy_built(built_parallel, tmp_path)
    before = index_state(index)
    assert before == corpus_state(corpus)
    proc = start_cli("index", "--corpus", str(corpus), "--index", str(index), "--rebuild")
    try:
        assert _wait_for(lambda: bool(writer_processes(proc, index)), 30, proc), "no writer process seen"
        victim = writer_processes(proc, index)[0]
        os.kill(victim, signal.SIGKILL)
        rc, out, err = finish(proc, 60)
    finally:
        kill_group(proc.pid)
    after = index_state(index)
    assert len(after) == len(before), (f"rc {rc}; the published index has {len(after)} of {len(before)} "
                                       f"articles\nstdout: {out}\nstderr: {err[-1500:]}")
    assert after == before
    if rc != 0:
        assert "Error:" in err, err[-1500:]


@pytest.mark.slow
def test_stale_lock_of_a_dead_process_is_recovered_with_a_message(tmp_path):
    corpus = small_articles(tmp_path / "c", 3)
    index = new_index_dir(tmp_path / "ix")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (index / store.LOCK).write_text(f"{dead.pid}\n", encoding="ascii")
    r = cli("index", "--corpus", str(corpus), "--index", str(index))
    assert r.returncode == 0, r.stderr
    assert f"recovered a stale lock left by pid {dead.pid}" in r.stderr
    assert index_state(index) == corpus_state(corpus)
    assert (index / store.LOCK).read_text() == ""


LATE_MOMENTS = ["before CURRENT is replaced", "after CURRENT is replaced", "while old generations are removed"]


def _interrupt_late(tmp_path: Path, monkeypatch, moment: str) -> tuple[Path, Path, dict[str, str]]:
    """An indexed corpus with one article added, and a Ctrl-C armed for the
    next run at ``moment`` of publishing (``monkeypatch.undo()`` disarms it).
    Returns the corpus, the index and the index's state before the run."""
    corpus = small_articles(tmp_path / "c", 4)
    index = new_index_dir(tmp_path / "ix")
    update_index(IndexConfig(corpus, index, workers=1))
    old = index_state(index)
    write_article(corpus, "new.md", "# 新文章\n\n模型 训练 的新内容。\n")
    live_before = store.live_name(index)
    real_replace, real_collect = os.replace, store.collect_garbage

    def replace(src, dst, *a, **kw):
        if Path(dst).name == store.CURRENT and moment != "while old generations are removed":
            if moment == "after CURRENT is replaced":
                real_replace(src, dst, *a, **kw)
            raise KeyboardInterrupt
        return real_replace(src, dst, *a, **kw)

    def collect_garbage(*a, **kw):
        if moment == "while old generations are removed" and store.live_name(index) != live_before:
            raise KeyboardInterrupt  # the clean-up after publishing
        return real_collect(*a, **kw)

    monkeypatch.setattr(store.os, "replace", replace)
    monkeypatch.setattr(store, "collect_garbage", collect_garbage)
    return corpus, index, old


@pytest.mark.parametrize("moment", LATE_MOMENTS)
def test_ctrl_c_inside_publish_never_deletes_the_live_generation(tmp_path, monkeypatch, moment):
    """A Ctrl-C can land anywhere in publish(): before CURRENT names the new
    generation it is dropped and the old one answers; after, it is the live
    index and must stay (CI found the new generation removed under CURRENT)."""
    corpus, index, old = _interrupt_late(tmp_path, monkeypatch, moment)
    with pytest.raises(KeyboardInterrupt):
        update_index(IndexConfig(corpus, index, workers=1))
    monkeypatch.undo()
    live = store.read_current(index)  # raises IndexUnavailable if the live generation is gone
    assert live is not None and (live.path / store.META).is_file()
    state = index_state(index)
    if moment == "before CURRENT is replaced":
        assert state == old
    else:
        assert state == corpus_state(corpus)
    update_index(IndexConfig(corpus, index, workers=1))  # converges
    assert index_state(index) == corpus_state(corpus)


@pytest.mark.slow  # a build per moment; the quick loop keeps the one above, that nothing is deleted
@pytest.mark.parametrize("moment", LATE_MOMENTS)
def test_the_message_after_ctrl_c_says_what_is_live(tmp_path, monkeypatch, moment):
    """``zhsearch index`` interrupted late: before the new generation is live
    it says the index is unchanged; once it is live (publish's last steps,
    the clean-up after it) it says the index is up to date, and either way
    the message is true (a kill loop caught "unchanged" over a published index)."""
    from click.testing import CliRunner

    from zhsearch.cli import main

    corpus, index, old = _interrupt_late(tmp_path, monkeypatch, moment)
    r = CliRunner().invoke(main, ["index", "--corpus", str(corpus), "--index", str(index)])
    monkeypatch.undo()
    assert r.exit_code == 130, r.output
    if moment == "before CURRENT is replaced":
        assert INTERRUPTED in r.output and PUBLISHED not in r.output
        assert index_state(index) == old
    else:
        assert PUBLISHED in r.output and INTERRUPTED not in r.output
        assert index_state(index) == corpus_state(corpus)
    rerun = CliRunner().invoke(main, ["index", "--corpus", str(corpus), "--index", str(index)])
    assert rerun.exit_code == 0, rerun.output
    assert index_state(index) == corpus_state(corpus)
    assert len(list(index.glob("gen-*"))) <= 2  # the live one and at most its predecessor


# ------------------------------------------------------- messy and moving files


def _setpriv_prefix() -> tuple[str, ...] | None:
    """A command prefix under which file permissions apply (root ignores them)."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if not setpriv:
        return None
    caps = "-dac_override,-dac_read_search"
    probe = subprocess.run([setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}", "true"],
                           capture_output=True)
    return (setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}") if probe.returncode == 0 else None


@pytest.mark.slow
def test_messy_corpus_every_oddity_skipped_with_a_message(tmp_path):
    """Symlink loops, dangling and self-referencing symlinks, a directory
    named ``x.md``, a named pipe, binary and empty files: each is reported,
    the run finishes and every real article is indexed."""
    corpus = small_articles(tmp_path / "c", 5)
    write_article(corpus, "x.md/inner.md", "# 目录里的文章\n\n名为 x.md 的目录里的文章也要被索引。\n")
    write_article(corpus, "sub/deep.md", "# 子目录\n\n子目录里的文章。\n")
    (corpus / "sub" / "loop").symlink_to("..", target_is_directory=True)  # sub/loop → corpus
    (corpus / "sub" / "loop.md").symlink_to(".", target_is_directory=True)  # dir symlink named *.md
    (corpus / "dangling.md").symlink_to("does-not-exist.md")
    (corpus / "self.md").symlink_to("self.md")
    os.mkfifo(corpus / "fifo.md")  # reading it would block forever
    (corpus / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" * 100)
    (corpus / "empty.md").write_bytes(b"")
    (corpus / "link-to-a000.md").symlink_to("a000.md")  # symlinked files are followed
    index = new_index_dir(tmp_path / "ix")
    r = cli("index", "--corpus", str(corpus), "--index", str(index), timeout=60)
    assert r.returncode == 0, r.stderr
    no_traceback(r.stderr)
    skipped = skipped_lines(r.stderr)
    assert "is a directory" in skipped.get("x.md", ""), skipped
    assert "is a directory" in skipped.get("sub/loop.md", ""), skipped
    assert "broken symlink" in skipped.get("dangling.md", ""), skipped
    assert "symlink" in skipped.get("self.md", ""), skipped
    assert "not a regular file" in skipped.get("fifo.md", ""), skipped
    assert "binary" in skipped.get("binary.md", ""), skipped
    state = index_state(index)
    expected = {p for p in corpus_state(corpus) if p != "binary.md"} | {"link-to-a000.md"}
    assert set(state) == expected
    assert not any(p.startswith("sub/loop") for p in state)
    # the next run changes nothing and says the same
    r2 = cli("index", "--corpus", str(corpus), "--index", str(index), timeout=60)
    assert r2.returncode == 0 and skipped_lines(r2.stderr) == skipped
    assert "0 added, 0 updated, 0 deleted" in r2.stdout


@pytest.mark.slow
def test_fifty_megabyte_file_is_skipped_as_too_large(tmp_path):
    """Skipped without being indexed: the run costs about what the same run
    without the file costs (measured first, here); indexing 50 MB of text
    would cost a hundred times that."""
    corpus = small_articles(tmp_path / "c", 3)
    t0 = time.monotonic()
    r = cli("index", "--corpus", str(corpus), "--index", str(new_index_dir(tmp_path / "reference")))
    reference = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    line = "这是一份巨大的导出日志，不是文章。 log line 12345\n".encode()
    size = 50 * 1024 * 1024
    (corpus / "huge.md").write_bytes((line * (size // len(line) + 1))[:size])
    index = new_index_dir(tmp_path / "ix")
    t0 = time.monotonic()
    try:
        r = cli("index", "--corpus", str(corpus), "--index", str(index), timeout=30 * reference)
    except subprocess.TimeoutExpired:
        pytest.fail(f"a 50 MB .md file is being read and indexed (still running after 30 times the "
                    f"{reference:.1f} s of the same run without it) instead of skipped as larger than "
                    f"MAX_ARTICLE_BYTES={MAX_ARTICLE_BYTES}")
    took = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    assert "too large" in skipped_lines(r.stderr).get("huge.md", ""), r.stderr
    assert set(index_state(index)) == {"a000.md", "a001.md", "a002.md"}
    assert took < 3 * reference, f"{took:.1f} s with the 50 MB file, {reference:.1f} s without it"


@pytest.mark.slow
def test_permission_denied_file_and_folder(tmp_path):
    prefix = _setpriv_prefix()
    if prefix is None:
        pytest.skip("running as root without setpriv: permissions cannot be enforced")
    corpus = small_articles(tmp_path / "c", 3)
    write_article(corpus, "secret.md", "# 机密\n\n第一版讲的是缓存一致性。\n")
    write_article(corpus, "locked/inside.md", "# 锁住的目录\n\n看不到的文章。\n")
    index = new_index_dir(tmp_path / "ix")
    r = cli("index", "--corpus", str(corpus), "--index", str(index), prefix=prefix)
    assert r.returncode == 0, r.stderr
    assert {"secret.md", "locked/inside.md"} <= set(index_state(index))
    # the file changes and becomes unreadable; the folder becomes unlistable
    write_article(corpus, "secret.md", "# 机密\n\n第二版。\n")
    (corpus / "secret.md").chmod(0)
    (corpus / "locked").chmod(0)
    try:
        r = cli("index", "--corpus", str(corpus), "--index", str(index), prefix=prefix)
    finally:
        (corpus / "secret.md").chmod(0o644)
        (corpus / "locked").chmod(0o755)
    assert r.returncode == 0, r.stderr
    no_traceback(r.stderr)
    skipped = skipped_lines(r.stderr)
    assert "Permission denied" in skipped.get("secret.md", ""), r.stderr
    assert "Permission denied" in skipped.get("locked", ""), r.stderr
    state = index_state(index)
    assert "secret.md" in state  # the previous version is kept, not lost
    assert "locked/inside.md" in state, "articles of a folder that cannot be listed were deleted"
    assert {h.path for h in search(Engine(index), "缓存一致性").hits} == {"secret.md"}
    # readable again: converges
    r = cli("index", "--corpus", str(corpus), "--index", str(index), prefix=prefix)
    assert r.returncode == 0, r.stderr
    assert index_state(index) == corpus_state(corpus)


def test_files_deleted_renamed_and_rewritten_between_scan_and_read(tmp_path, monkeypatch):
    """Deterministic "during": the scan sees the files, then they change
    before they are read.  The run finishes, reports them, loses nothing
    else, and the next run converges."""
    corpus = small_articles(tmp_path / "c", 6)
    index = tmp_path / "ix"
    update_index(IndexConfig(corpus, index, workers=1))
    for name in ("a000.md", "a001.md", "a002.md"):  # changed, so they will be read
        p = corpus / name
        p.write_text(p.read_text(encoding="utf-8") + "\n新增的一段。\n", encoding="utf-8")
    write_article(corpus, "fresh.md", "# 新文章\n\n扫描之后就被删除了。\n")
    full = "# 半截\n\n" + "这是一篇很长的文章，内容是关于分布式系统的一致性。" * 200
    write_article(corpus, "half.md", full)
    real_scan = build.scan_corpus

    def scan_then_change(root):
        found, skipped = real_scan(root)
        (corpus / "a000.md").unlink()  # deleted
        (corpus / "fresh.md").unlink()  # new, then deleted
        (corpus / "a001.md").rename(corpus / "renamed.md")  # renamed
        raw = full.encode("utf-8")
        (corpus / "half.md").write_bytes(raw[: len(raw) // 2 + 1])  # rewritten, cut mid-character
        p = corpus / "a002.md"  # replaced by a directory
        p.unlink()
        p.mkdir()
        return found, skipped

    monkeypatch.setattr(build, "scan_corpus", scan_then_change)
    r = update_index(IndexConfig(corpus, index, workers=1))
    monkeypatch.undo()
    reasons = dict(r.skipped)
    assert set(reasons) >= {"a000.md", "a001.md", "fresh.md", "a002.md"}, r.skipped
    assert all("cannot read" in reasons[p] for p in ("a000.md", "a001.md", "fresh.md", "a002.md")), r.skipped
    state = index_state(index)
    assert {"a003.md", "a004.md", "a005.md", "half.md"} <= set(state)
    # converges on the next run
    r2 = update_index(IndexConfig(corpus, index, workers=1))
    assert "renamed.md" in r2.added and "a000.md" in r2.deleted
    assert index_state(index) == corpus_state(corpus)


@pytest.mark.slow
def test_files_changing_while_the_indexer_runs(tmp_path):
    """A thread keeps creating, deleting, renaming and rewriting (non-atomically)
    articles while ``zhsearch index --rebuild`` runs: the run finishes without a
    traceback and the next run converges to the corpus."""
    corpus = small_articles(tmp_path / "c", 70)
    index = new_index_dir(tmp_path / "ix")
    stop = threading.Event()
    rng = random.Random(7)
    body = "# 变化中的文章\n\n" + "索引器运行时这个文件一直在变化。" * 300

    def churn() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            p = corpus / f"churn-{n % 15}.md"
            try:
                op = rng.randrange(4)
                if op == 0:
                    with open(p, "w", encoding="utf-8") as f:  # half written, then finished
                        f.write(body[: len(body) // 2])
                        f.flush()
                        time.sleep(0.003)
                        f.write(body[len(body) // 2:])
                elif op == 1:
                    p.unlink(missing_ok=True)
                elif op == 2 and p.exists():
                    p.rename(corpus / f"churn-{(n + 7) % 15}.md")
                else:
                    victim = corpus / f"a{rng.randrange(70):03d}.md"
                    if victim.exists():
                        victim.write_text(victim.read_text(encoding="utf-8") + f"\n改动 {n}\n", encoding="utf-8")
            except OSError:
                pass
            time.sleep(0.002)

    t = threading.Thread(target=churn, daemon=True)
    t.start()
    try:
        r = cli("index", "--corpus", str(corpus), "--index", str(index), "--rebuild", timeout=90)
        r2 = cli("index", "--corpus", str(corpus), "--index", str(index), timeout=90)
    finally:
        stop.set()
        t.join(5)
    for run in (r, r2):
        assert run.returncode == 0, run.stderr
        no_traceback(run.stderr)
    r3 = cli("index", "--corpus", str(corpus), "--index", str(index))
    assert r3.returncode == 0, r3.stderr
    assert index_state(index) == corpus_state(corpus)


# ------------------------------------------------------------ 10,000 tiny files

WORDS = "缓存 索引 分词 检索 排序 模型 参数 训练 推理 网络 数据库 事务 队列 线程 笔记".split()


@pytest.fixture(scope="module")
def tiny_10k(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny10k")
    corpus = root / "c"
    for d in range(20):
        (corpus / f"d{d:02d}").mkdir(parents=True)
    for i in range(10_000):
        (corpus / f"d{i // 500:02d}" / f"n{i:05d}.md").write_text(
            f"# 笔记 {i}\n\n第{i}号笔记讲{WORDS[i % len(WORDS)]}和{WORDS[i * 7 % len(WORDS)]}。\n",
            encoding="utf-8")
    index = new_index_dir(root / "ix")
    t0 = time.monotonic()
    r = cli("index", "--corpus", str(corpus), "--index", str(index), timeout=300)
    took = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    return corpus, index, r, took


@pytest.mark.slow
def test_ten_thousand_tiny_files(tiny_10k):
    corpus, index, r, took = tiny_10k
    print(f"10,000 files indexed in {took:.1f} s")
    assert "10000 added" in r.stdout
    assert index_state(index, "笔记") == corpus_state(corpus)
    t0 = time.monotonic()
    r2 = cli("index", "--corpus", str(corpus), "--index", str(index))
    unchanged = time.monotonic() - t0
    assert r2.returncode == 0 and "10000 unchanged" in r2.stdout, r2.stdout + r2.stderr
    # finding nothing changed reads no file: a fraction of the build measured in the fixture
    assert unchanged < took / 3, f"{unchanged:.1f} s to find nothing changed, {took:.1f} s to build"
    hits = search(Engine(index), '"第4321号笔记"').hits
    assert [h.path for h in hits] == ["d08/n04321.md"]


@pytest.mark.slow
def test_query_time_cap_returns_partial_results_with_a_note(tiny_10k, monkeypatch):
    """Queries with many words over 10,000 articles, with the engine's time
    limit made tiny: each search comes back promptly (no slower than the
    slowest of them without a limit, measured first, here, within a factor
    for noise).  Where the engine had work it could cut (phrase and proximity
    checks, optional words) the page says the results are partial; a query
    of required words only (all array work, nothing to cut) is answered
    completely, exactly as without a limit."""
    import search.engine as engine_mod

    _corpus, index, _r, _took = tiny_10k
    engine = Engine(index, cache_size=0)
    search(engine, "笔记")  # open the index, load jieba, warm caches
    cuttable = ("笔记讲" * 40,  # one 120-character run: 讲 is optional within it
                " ".join(WORDS * 2))  # 30 common words: proximity phrase
    required_only = "笔记 讲 第 号 " * 20  # 4 required words, repeated
    complete = search(engine, required_only)

    def timed(q: str):
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            res = search(engine, q)
            runs.append(time.perf_counter() - t0)
        return res, sorted(runs)[1]  # the median of 3

    unlimited = max(timed(q)[1] for q in cuttable + (required_only,))
    monkeypatch.setattr(engine_mod, "TIME_LIMIT_S", 0.0001)
    for q in cuttable + (required_only,):
        res, took = timed(q)
        assert took < 5 * unlimited, (f"time limit {engine_mod.TIME_LIMIT_S} s, {q[:20]!r}… took {took * 1000:.1f} ms; "
                                      f"the slowest of these queries took {unlimited * 1000:.1f} ms without a limit")
        if q in cuttable:
            assert res.note and "查询耗时过长" in res.note, (q, res.note)
            assert res.note.count("查询耗时过长") == 1, res.note
        else:
            assert res.note == complete.note and res.total == complete.total
            assert [h.path for h in res.hits] == [h.path for h in complete.hits]


# ------------------------------------------------------------------ disk full


@pytest.fixture
def tiny_disk(tmp_path):
    """A 12 MB tmpfs (the index's jieba cache alone is ~9 MB)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a size-limited tmpfs needs root")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        if subprocess.run(["umount", str(mnt)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


@pytest.mark.slow
def test_disk_full_keeps_the_old_index(tiny_disk, tmp_path):
    corpus = small_articles(tmp_path / "c", 3)
    index = tiny_disk / "ix"
    r = cli("index", "--corpus", str(corpus), "--index", str(index))
    assert r.returncode == 0, r.stderr
    old_state, old_gen, old_files = index_state(index), current_name(index), generation_files(index)
    # leave 256 KB free: the compact index of 99 articles needs several times that
    st = os.statvfs(tiny_disk)
    (tiny_disk / "ballast").write_bytes(b"\0" * max(0, st.f_bavail * st.f_frsize - 256 * 1024))
    small_articles(corpus, 99, size=3000)  # far more than the disk holds
    for args in (["--rebuild"], ["--workers", "1"]):  # parallel rebuild, then serial update
        r = cli("index", "--corpus", str(corpus), "--index", str(index), *args)
        print(f"zhsearch index {' '.join(args)} on a full disk: rc {r.returncode}\n{r.stderr[-1500:]}")
        assert r.returncode != 0
        assert "No space left on device" in r.stderr.strip().splitlines()[-1]
        no_main_traceback(r.stderr)
        assert current_name(index) == old_gen
        assert generation_files(index) == old_files
        assert index_state(index) == old_state  # the old index still searches
        assert sorted(p.name for p in index.glob("gen-*")) == [old_gen]  # the unfinished one is gone
    subprocess.run(["mount", "-o", "remount,size=64m", str(tiny_disk)], check=True)
    r = cli("index", "--corpus", str(corpus), "--index", str(index))
    assert r.returncode == 0, r.stderr
    assert index_state(index) == corpus_state(corpus)


# ------------------------------------------------------------ corrupted index


@pytest.fixture(scope="module")
def built_small(tmp_path_factory):
    root = tmp_path_factory.mktemp("built-small")
    corpus = small_articles(root / "c", 8)
    index = new_index_dir(root / "ix")
    r = cli("index", "--corpus", str(corpus), "--index", str(index))
    assert r.returncode == 0, r.stderr
    return corpus, index


def _corrupt(index: Path, how: str) -> None:
    gen = index / current_name(index)
    if how == "truncated segment":
        seg = next(gen.glob("*.seg"))
        with open(seg, "r+b") as f:
            f.truncate(seg.stat().st_size // 2)
    elif how == "deleted TOC":
        for toc in gen.glob("_MAIN_*.toc"):
            toc.unlink()
    elif how == "damaged meta.json":
        (gen / store.META).write_text('{"identity": {"sch', encoding="utf-8")
    elif how == "CURRENT names a missing generation":
        (index / store.CURRENT).write_text("gen-000099\n", encoding="utf-8")
    else:  # pragma: no cover
        raise AssertionError(how)


CORRUPTIONS = ["truncated segment", "deleted TOC", "damaged meta.json", "CURRENT names a missing generation"]


@pytest.mark.slow
@pytest.mark.parametrize("how", CORRUPTIONS)
def test_corrupt_index_is_reported_clearly(make_app, built_small, tmp_path, how):
    corpus, index = _copy_built(built_small, tmp_path)
    _corrupt(index, how)
    with pytest.raises(store.IndexUnavailable, match="rebuild"):
        search(Engine(index), "模型")
    r = cli("search", "--index", str(index), "模型")
    assert r.returncode != 0
    no_traceback(r.stderr)
    assert "Aborted" not in r.stderr
    assert "Error:" in r.stderr and "zhsearch index --rebuild" in r.stderr, r.stderr
    # the site: a 503 saying what to do, and an honest health check
    app = make_app(index, corpus)
    client = app.test_client()
    resp = client.get("/api/search", query_string={"q": "模型"})
    assert resp.status_code == 503, resp.get_data(as_text=True)[:500]
    assert resp.get_json()["error"]["code"] == "index_unavailable"
    page = client.get("/search", query_string={"q": "模型"})
    assert page.status_code == 503 and "zhsearch index --rebuild" in page.get_data(as_text=True)
    assert client.get("/healthz").status_code == 503


@pytest.mark.slow
@pytest.mark.parametrize("how", CORRUPTIONS)
@pytest.mark.parametrize("repair", [["--rebuild"], []], ids=["rebuild", "plain index"])
def test_corrupt_index_is_repaired_by_index(built_small, tmp_path, how, repair):
    corpus, index = _copy_built(built_small, tmp_path)
    _corrupt(index, how)
    r = cli("index", "--corpus", str(corpus), "--index", str(index), *repair)
    assert r.returncode == 0, r.stderr
    no_traceback(r.stderr)
    if not repair:  # a plain run notices and rebuilds, saying why
        assert "full build:" in r.stdout, r.stdout
        assert "unusable" in r.stdout or "damaged" in r.stdout or "corrupt" in r.stdout, r.stdout
    assert index_state(index) == corpus_state(corpus)
