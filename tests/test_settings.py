"""Settings are checked by the commands that use them, and a bad value names its source.

Real ``zhsearch`` processes with real environments: a malformed variable
that only ``serve`` reads must not stop ``index`` or ``search``, and the
command that does read it says which variable (or flag) is wrong.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_article
from zhsearch.settings import SettingError, Settings

CLI = [sys.executable, "-m", "zhsearch"]
BAD_ORIGIN = "ZHSEARCH_ALLOW_ORIGINS: 'blog.example' must look like https://site.example"


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ZHSEARCH_")}
    return subprocess.run([*CLI, *args], env={**clean, **env}, capture_output=True, text=True, timeout=300)


@pytest.fixture
def corpus(tmp_path) -> Path:
    c = tmp_path / "corpus"
    write_article(c, "a.md", "---\ntitle: 设置\n---\n\n环境变量写错了也能建索引。\n")
    return c


@pytest.mark.slow  # real processes and waiting: the full suite runs it, the quick loop does not
def test_index_and_search_do_not_fail_on_a_serve_only_variable(corpus, tmp_path):
    serve_only = {"ZHSEARCH_ALLOW_ORIGINS": "blog.example", "ZHSEARCH_URL_PREFIX": "/a b",
                  "ZHSEARCH_BASE_URL": "ftp://x"}
    index = str(tmp_path / "ix")
    r = run("index", "--corpus", str(corpus), "--index", index, **serve_only)
    assert r.returncode == 0, r.stderr
    assert "1 added" in r.stdout and "ALLOW_ORIGINS" not in r.stderr
    r = run("search", "环境变量", "--index", index, **serve_only, ZHSEARCH_SEGMENTER="bogus",
            ZHSEARCH_ANCHOR_STYLE="nope", ZHSEARCH_GIT_TIMEOUT="soon")  # none of them is search's
    assert r.returncode == 0, r.stderr
    assert "a.md" in r.stdout


@pytest.mark.slow  # real processes and waiting: the full suite runs it, the quick loop does not
def test_serve_names_the_malformed_variable(corpus, tmp_path):
    r = run("serve", "--corpus", str(corpus), "--index", str(tmp_path / "ix"), ZHSEARCH_ALLOW_ORIGINS="blog.example")
    assert r.returncode == 2
    assert BAD_ORIGIN in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "ix").exists()  # it stopped before building anything
    r = run("serve", "--corpus", str(corpus), "--index", str(tmp_path / "ix"), "--allow-origin", "blog.example")
    assert r.returncode == 2 and "--allow-origin: 'blog.example' must look like" in r.stderr
    r = run("serve", "--corpus", str(corpus), "--index", str(tmp_path / "ix"), ZHSEARCH_URL_PREFIX="/a b")
    assert r.returncode == 2 and "ZHSEARCH_URL_PREFIX: URL prefix '/a b' must be a path" in r.stderr


@pytest.mark.slow  # real processes and waiting: the full suite runs it, the quick loop does not
def test_index_names_its_own_malformed_variables(corpus, tmp_path):
    r = run("index", "--corpus", str(corpus), "--index", str(tmp_path / "ix"), ZHSEARCH_SEGMENTER="bogus")
    assert r.returncode == 2 and "ZHSEARCH_SEGMENTER: unknown segmenter 'bogus'" in r.stderr
    r = run("index", "--corpus", str(corpus), "--index", str(tmp_path / "ix"), ZHSEARCH_ANCHOR_STYLE="nope")
    assert r.returncode == 2 and "ZHSEARCH_ANCHOR_STYLE: unknown anchor style 'nope'" in r.stderr
    assert not (tmp_path / "ix").exists()


def test_load_reads_only_the_settings_a_command_uses(monkeypatch):
    monkeypatch.setenv("ZHSEARCH_ALLOW_ORIGINS", "blog.example")
    monkeypatch.setenv("ZHSEARCH_INDEX", "/srv/ix")
    s = Settings.load(uses=("corpus", "index"))
    assert s.index == Path("/srv/ix") and s.allow_origins == ()
    with pytest.raises(SettingError, match=f"^{BAD_ORIGIN}"):
        Settings.load()  # everything: what the web site reads
    with pytest.raises(SettingError, match="^--allow-origin: 'x' must look like"):
        Settings.load(allow_origins=["x"])
    with pytest.raises(TypeError):
        Settings.load(uses=("no_such_setting",))
