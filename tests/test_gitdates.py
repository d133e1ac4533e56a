"""Dates someone wrote: front matter, ``updated``/``lastmod``, then git.

A real git repository in a temporary folder, with commits at fixed dates; the
corpus is a sub-folder of it (as ``docs/`` is in a VuePress site).  Without
git, or outside a work tree, an undated article has no date at all: never the
time its file was copied.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from indexer import gitdates
from tests.conftest import CORPUS, build_index, write_article

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

D1 = dt.datetime(2021, 3, 4, 5, 6, 7)
D2 = dt.datetime(2022, 8, 9, 10, 11, 12)
D3 = dt.datetime(2023, 1, 2, 3, 4, 5)
COPY_TIME = dt.datetime(2030, 1, 1, 0, 0, 0)  # what a copy would have dated everything


def git(repo: Path, *args: str, when: dt.datetime | None = None) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "作者", "GIT_AUTHOR_EMAIL": "a@example.com",
           "GIT_COMMITTER_NAME": "作者", "GIT_COMMITTER_EMAIL": "a@example.com",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    if when:
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S+08:00")
        env.update(GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp)
    out = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True)
    return out.stdout


def touch(path: Path, when: dt.datetime) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()))


@pytest.fixture
def site(tmp_path) -> Path:
    """A site repository whose articles are in docs/."""
    repo = tmp_path / "site"
    docs = repo / "docs"
    git(tmp_path, "init", "-q", str(repo))
    write_article(repo, "README.md", "# 站点\n")
    write_article(docs, "first.md", "---\ntitle: 第一篇\n---\n\n向量数据库的索引。\n")
    write_article(docs, "dated.md", "---\ntitle: 自带日期\ndate: 2019-05-06\n---\n\n向量数据库的历史。\n")
    write_article(docs, "lastmod.md", "---\ntitle: 更新日期\nlastmod: 2020-07-08\n---\n\n向量数据库的分片。\n")
    write_article(docs, "子目录/名字 有空格.md", "# 中文路径\n\n向量数据库的副本。\n")
    shutil.copy(CORPUS / "userdict.txt", docs / "userdict.txt")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "first", when=D1)
    write_article(docs, "first.md", "---\ntitle: 第一篇\n---\n\n向量数据库的索引，第二版。\n")
    write_article(docs, "second.md", "# 第二篇\n\n向量数据库的查询。\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "second", when=D2)
    for p in docs.rglob("*.md"):  # a fresh clone: every file "copied" at the same moment
        touch(p, COPY_TIME)
    return docs


def dates(index: Path) -> dict[str, dt.datetime | None]:
    from search.engine import Engine

    searcher = Engine(index).generation().searcher()
    return {d["path"]: d.get("date") for d in searcher.documents()}


def test_undated_articles_take_the_date_of_their_last_commit(site, tmp_path):
    index = tmp_path / "ix"
    build_index(site, index)
    assert dates(index) == {
        "first.md": D2,  # changed again in the second commit
        "second.md": D2,
        "子目录/名字 有空格.md": D1,
        "dated.md": dt.datetime(2019, 5, 6),  # the front matter wins
        "lastmod.md": dt.datetime(2020, 7, 8),
    }


def test_uncommitted_work_is_dated_by_its_file_time(site, tmp_path):
    index = tmp_path / "ix"
    draft = write_article(site, "draft.md", "# 草稿\n\n向量数据库的草稿。\n")
    touch(draft, D3)
    write_article(site, "second.md", "# 第二篇\n\n向量数据库的查询，还没提交的修改。\n")
    touch(site / "second.md", D3)
    build_index(site, index)
    got = dates(index)
    assert got["draft.md"] == D3 and got["second.md"] == D3  # being written now
    assert got["first.md"] == D2


def test_one_git_log_for_the_whole_corpus(site, tmp_path, monkeypatch):
    runs: list[list[str]] = []
    real = subprocess.Popen

    def spy(args, *a, **kw):
        runs.append(list(args))
        return real(args, *a, **kw)

    monkeypatch.setattr(subprocess, "Popen", spy)
    build_index(site, tmp_path / "ix")
    git_runs = [r for r in runs if Path(r[0]).name == "git"]
    assert [r[1] for r in git_runs] == ["rev-parse", "status", "log"]  # 5 articles, 3 processes


def test_incremental_update_picks_up_a_new_commit(site, tmp_path):
    index = tmp_path / "ix"
    build_index(site, index)
    write_article(site, "second.md", "# 第二篇\n\n向量数据库的查询，第三版。\n")
    git(site.parent, "commit", "-qam", "third", when=D3)
    r = build_index(site, index)
    assert r.updated == ["second.md"]
    got = dates(index)
    assert got["second.md"] == D3 and got["first.md"] == D2


def test_without_git_an_undated_article_has_no_date(site, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no git anywhere
    index = tmp_path / "ix"
    build_index(site, index)
    got = dates(index)
    assert got["first.md"] is None and got["second.md"] is None  # not the copy time
    assert got["dated.md"] == dt.datetime(2019, 5, 6)
    assert gitdates.collect(site, ["first.md"]).unavailable == "git is not installed"


def test_outside_a_work_tree_an_undated_article_has_no_date(tmp_path):
    corpus = tmp_path / "plain"
    write_article(corpus, "a.md", "# 无日期\n\n向量数据库。\n")
    touch(corpus / "a.md", COPY_TIME)
    shutil.copy(CORPUS / "userdict.txt", corpus / "userdict.txt")
    build_index(corpus, tmp_path / "ix")
    assert dates(tmp_path / "ix") == {"a.md": None}
    info = gitdates.collect(corpus, ["a.md"])
    assert info.committed == {} and "not in a git work tree" in info.unavailable


def test_a_repository_without_commits(tmp_path):
    repo = tmp_path / "new"
    git(tmp_path, "init", "-q", str(repo))
    write_article(repo, "a.md", "# 新仓库\n")
    info = gitdates.collect(repo, ["a.md"])
    assert info.unavailable is None and info.dirty == {"a.md"}  # untracked: being written
    (repo / "b.md").write_text("# b\n", encoding="utf-8")
    git(repo, "add", "b.md")
    assert "b.md" in gitdates.collect(repo, ["b.md"]).dirty  # staged, never committed


def test_undated_articles_sort_last_by_date(site, tmp_path, monkeypatch):
    from search.engine import Engine, search

    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    build_index(site, tmp_path / "ix")
    hits = search(Engine(tmp_path / "ix"), "向量数据库", sort="date", per_page=10).hits
    assert [h.path for h in hits][:2] == ["lastmod.md", "dated.md"]
    assert {h.path for h in hits[2:]} == {"first.md", "second.md", "子目录/名字 有空格.md"}
    assert all(h.date is None for h in hits[2:])


# ------------------------------------------------------ when git cannot help

CLI = [sys.executable, "-m", "zhsearch"]


def _notes(report) -> list[str]:
    return [text for _, text in report.notes]


def _fake_git(tmp_path: Path, pids: Path) -> Path:
    """A ``git`` that never answers: it starts a child that keeps the pipes
    open (as a hung credential helper or a slow network file system does)
    and waits for it; both record their pids."""
    bin_dir = tmp_path / "hung-bin"
    bin_dir.mkdir()
    git_exe = bin_dir / "git"
    git_exe.write_text(f"#!/bin/sh\necho $$ >> {pids}\nsleep 100000 &\necho $! >> {pids}\nwait\n", encoding="utf-8")
    git_exe.chmod(0o755)
    return bin_dir


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
def test_a_git_that_never_answers_is_stopped_and_indexing_goes_on(site, tmp_path):
    pids = tmp_path / "git-pids"
    env = {**os.environ, "PATH": f"{_fake_git(tmp_path, pids)}:{os.environ['PATH']}", "ZHSEARCH_GIT_TIMEOUT": "2"}
    index = tmp_path / "ix"
    out = subprocess.run([*CLI, "index", "--corpus", str(site), "--index", str(index)], env=env,
                         capture_output=True, text=True, timeout=120)  # a hang fails here, not for ever
    assert out.returncode == 0, out.stderr[-2000:]
    assert "no dates from git: git took longer than 2 s (ZHSEARCH_GIT_TIMEOUT) and was stopped" in out.stderr
    assert "3 of 5 articles have no date" in out.stderr  # the two with front-matter dates keep them
    assert "5 added" in out.stdout
    started = [int(p) for p in pids.read_text().split()]
    assert len(started) >= 2 and not [p for p in started if _alive(p)]  # git and what it started: gone
    # the writer lock was released: the next run does not wait for anything
    again = subprocess.run([*CLI, "index", "--corpus", str(site), "--index", str(index)], env=env,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "5 unchanged" in again.stdout


def test_without_git_one_line_says_why_and_how_many_are_undated(site, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    r = build_index(site, tmp_path / "ix")
    dotgit = site.parent / ".git"
    assert _notes(r) == [f"no dates from git: git is not installed (the corpus is in the repository {dotgit}); "
                         "3 of 5 articles have no date"]


def test_outside_a_repository_nothing_is_said(tmp_path):
    corpus = tmp_path / "plain"
    write_article(corpus, "a.md", "# 无日期\n\n向量数据库。\n")
    assert build_index(corpus, tmp_path / "ix").notes == []


def test_a_broken_repository_says_so(site, tmp_path):
    (site.parent / ".git" / "HEAD").write_text("garbage\n", encoding="utf-8")
    r = build_index(site, tmp_path / "ix")
    [note] = _notes(r)
    assert note.startswith(f"no dates from git: the repository {site.parent / '.git'} is broken (")
    assert note.endswith("; 3 of 5 articles have no date")
    assert dates(tmp_path / "ix")["first.md"] is None


@pytest.mark.slow  # three clones and a worktree: the full suite runs it
def test_a_worktree_whose_repository_is_gone_says_so(site, tmp_path):
    tree = tmp_path / "tree"
    git(site.parent, "worktree", "add", "-q", str(tree))
    shutil.rmtree(site.parent)  # the main repository is deleted; the worktree's .git file dangles
    r = build_index(tree / "docs", tmp_path / "ix")
    gitdir = (tree / ".git").read_text(encoding="utf-8").split(":", 1)[1].strip()
    assert _notes(r) == [f"no dates from git: {tree / '.git'} points to {gitdir}, which does not exist (the "
                         "worktree's repository was moved or deleted); 3 of 5 articles have no date"]


@pytest.mark.slow  # three clones and a worktree: the full suite runs it
def test_a_shallow_clone_dates_only_what_its_history_shows(site, tmp_path):
    write_article(site, "second.md", "# 第二篇\n\n向量数据库的查询，第三版。\n")
    git(site.parent, "commit", "-qam", "third", when=D3)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{site.parent}", str(clone))
    for p in (clone / "docs").rglob("*.md"):
        touch(p, COPY_TIME)
    r = build_index(clone / "docs", tmp_path / "ix")
    got = dates(tmp_path / "ix")
    # one commit known: it is the boundary, which lists every file: nobody's real last change
    assert got["second.md"] is None and got["first.md"] is None and got["dated.md"] == dt.datetime(2019, 5, 6)
    assert _notes(r) == [f"the git history is shallow (a shallow clone): it does not tell when 5 files last "
                         f"changed, so they get no date from git (3 of 5 articles have no date); "
                         f"`git -C {clone} fetch --unshallow` fetches the history"]

    deeper = tmp_path / "deeper"  # two commits: the newest one's file is dated, the rest are not
    git(tmp_path, "clone", "-q", "--depth", "2", f"file://{site.parent}", str(deeper))
    build_index(deeper / "docs", tmp_path / "ix2")
    got = dates(tmp_path / "ix2")
    assert got["second.md"] == D3 and got["first.md"] is None
