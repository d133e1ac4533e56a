"""Any file name the file system can hold is indexed, shown readably and linked.

Real names on a real file system: GBK bytes as ``unzip`` of a Windows
archive leaves them, a name that is neither UTF-8 nor GB18030, a newline, a
tab, ``#``, ``?`` and ``%``.  ``zhsearch index`` runs as a process; the
pages and the API are the real Flask app; ``serve --watch`` is a real server
process whose corpus gets a GBK-named article while it runs.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer import filenames
from indexer.build import IndexConfig, update_index
from search.engine import Engine, search
from tests.test_faults import _setpriv_prefix

CLI = [sys.executable, "-m", "zhsearch"]
GBK_NAME = "文章.md".encode("gbk")  # b'\xce\xc4\xd5\xc2.md': not UTF-8
GBK_DIR = "资料".encode("gbk")  # b'\xd7\xca\xc1\xcf': not UTF-8 either
BAD_NAME = b"\xff\xfe-raw.md"  # neither UTF-8 nor GB18030


def _write(corpus: Path, rel: bytes | str, text: str) -> None:
    path = os.path.join(os.fsencode(corpus), rel if isinstance(rel, bytes) else os.fsencode(rel))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(text.encode("utf-8"))


def _key(rel: bytes) -> str:
    return filenames.key(os.fsdecode(rel))


@pytest.fixture
def odd_corpus(tmp_path) -> Path:
    corpus = tmp_path / "corpus"
    _write(corpus, "plain.md", "---\ntitle: 普通文章\n---\n\n普通的正文，讲快速排序。\n")
    _write(corpus, GBK_NAME, "这是压缩包里的文章，讲跳表。\n")  # no title: its name is the title
    _write(corpus, GBK_DIR + b"/" + GBK_NAME, "---\ntitle: 子目录里的文章\n---\n\n子目录里讲红黑树。\n")
    _write(corpus, BAD_NAME, "---\ntitle: 坏字节名字\n---\n\n名字里是坏字节，讲前缀树。\n")
    _write(corpus, "a\nb.md", "---\ntitle: 换行文件名\n---\n\n名字里有换行，讲拉链法。\n")
    _write(corpus, "tab\there.md", "---\ntitle: 制表符文件名\n---\n\n名字里有制表符，讲哈希环。\n")
    _write(corpus, "q#1?x=%41 100%.md", "---\ntitle: 符号文件名\n---\n\n名字里有井号问号百分号，讲位图。\n")
    # the UTF-8 spelling of the GBK name, beside it: two files, two keys
    _write(corpus, "文章.md", "---\ntitle: UTF-8 的文章\n---\n\n同名的 UTF-8 文件，讲布谷鸟过滤器。\n")
    return corpus


WORDS = {  # a word of each article → its key
    "跳表": _key(GBK_NAME),
    "红黑树": _key(GBK_DIR + b"/" + GBK_NAME),
    "前缀树": _key(BAD_NAME),
    "拉链法": "a\nb.md",
    "哈希环": "tab\there.md",
    "位图": "q#1?x=%41 100%.md",
    "布谷鸟过滤器": "文章.md",
}


# ------------------------------------------------------------------- names

@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=12).filter(lambda b: b"/" not in b and b"\0" not in b),
                min_size=1, max_size=3))
def test_every_name_has_one_key_that_leads_back_to_it(parts):
    name = os.fsdecode(b"/".join(parts))
    k = filenames.key(name)
    k.encode("utf-8")  # valid Unicode: a Whoosh term, JSON, a URL
    assert filenames.fs_name(k) == name
    shown = filenames.display(k)
    shown.encode("utf-8")  # printable anywhere
    assert "\n" not in shown and "\t" not in shown  # one line of a report


def test_keys_of_different_names_differ_and_utf8_names_are_their_own_key():
    names = [os.fsdecode(GBK_NAME), "文章.md", "x\U0010ffce.md", os.fsdecode(b"x\xce.md"), "x\U0010ff00\U0010ffce.md"]
    keys = [filenames.key(n) for n in names]
    assert len(set(keys)) == len(names)
    assert keys[1] == "文章.md" and keys[2] != names[2]  # a real U+10FFCE is quoted, so it cannot pass for a byte
    assert [filenames.fs_name(k) for k in keys] == names


def test_names_are_shown_readably():
    assert filenames.display(_key(GBK_NAME)) == "文章.md"  # GB18030 when the bytes decode cleanly
    assert filenames.display(_key(GBK_DIR + b"/" + GBK_NAME)) == "资料/文章.md"
    assert filenames.display(_key(BAD_NAME)) == "\\xff\\xfe-raw.md"  # escaped bytes otherwise
    assert filenames.display("a\nb.md") == "a\\nb.md" and filenames.display("tab\there.md") == "tab\\there.md"
    assert filenames.display("x\u202egpj.md") == "x\\u202egpj.md"  # an RLO cannot reverse what follows


# ------------------------------------------------------------------- index

@pytest.mark.slow  # real processes and waiting: the full suite runs it, the quick loop does not
def test_index_command_indexes_every_name_and_reports_them_readably(odd_corpus, tmp_path):
    index = tmp_path / "ix"
    out = subprocess.run([*CLI, "index", "--corpus", str(odd_corpus), "--index", str(index), "--json"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Traceback" not in out.stderr
    report = json.loads(out.stdout)
    assert sorted(report["added"]) == sorted(["plain.md", *WORDS.values()]) and report["skipped"] == []
    engine = Engine(index)
    for word, key in WORDS.items():
        assert [h.path for h in search(engine, word).hits] == [key], word
    assert search(engine, "跳表").hits[0].title == "文章"  # the readable name, not escapes

    # a second run finds every file again by its key: nothing changed, nothing re-read
    again = subprocess.run([*CLI, "index", "--corpus", str(odd_corpus), "--index", str(index)],
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "0 added, 0 updated, 0 deleted, 8 unchanged" in again.stdout

    # an edit and a deletion reach the right files
    _write(odd_corpus, GBK_NAME, "压缩包里的文章改过了，讲字典树。\n")
    os.unlink(os.path.join(os.fsencode(odd_corpus), GBK_DIR, GBK_NAME))
    r = update_index(IndexConfig(odd_corpus, index, workers=1))
    assert r.updated == [WORDS["跳表"]] and r.deleted == [WORDS["红黑树"]]
    assert [h.path for h in search(engine, "字典树").hits] == [WORDS["跳表"]]
    assert search(engine, "红黑树").hits == []


@pytest.mark.slow  # real processes and waiting: the full suite runs it, the quick loop does not
def test_an_unreadable_name_is_skipped_with_its_readable_path(odd_corpus, tmp_path):
    prefix = _setpriv_prefix()
    if prefix is None:
        pytest.skip("running as root without setpriv: permissions cannot be enforced")
    locked = os.path.join(os.fsencode(odd_corpus), GBK_NAME)
    os.chmod(locked, 0)
    try:
        out = subprocess.run([*prefix, *CLI, "index", "--corpus", str(odd_corpus), "--index", str(tmp_path / "ix")],
                             capture_output=True, text=True, timeout=300)
    finally:
        os.chmod(locked, 0o644)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "skipped  文章.md: cannot read: Permission denied" in out.stderr
    assert "7 added" in out.stdout


# ------------------------------------------------------------------- pages

@pytest.fixture
def site(make_app, odd_corpus, tmp_path):
    update_index(IndexConfig(odd_corpus, tmp_path / "ix", workers=1))
    return make_app(tmp_path / "ix", odd_corpus).test_client()


def test_result_links_and_article_pages_work_for_every_name(site):
    for word, key in WORDS.items():
        hit = site.get("/api/search", query_string={"q": word}).get_json()["hits"][0]
        assert hit["path"] == key
        page = site.get("/search", query_string={"q": word}).get_data(as_text=True)
        link = html.unescape(re.search(r'<a href="([^"]*)" data-zs-hit>', page).group(1))
        assert link.startswith("/a/") and "%" in link and "\n" not in link, link  # one percent-encoded URL
        assert urllib.parse.unquote(link[3:].split("?")[0]) == key
        r = site.get(link)
        assert r.status_code == 200, (word, link)
        body = r.get_data(as_text=True)
        assert word in body  # the article itself, read from its file
        assert "原文件已不在" not in body and "missing" not in body.lower()
        assert f"<code>{filenames.display(key)}</code>" in body.replace("&#39;", "'")


def test_gbk_names_are_readable_on_the_page_and_in_suggestions(site):
    page = site.get("/search", query_string={"q": "红黑树"}).get_data(as_text=True)
    assert "资料" in page  # the folder crumb, decoded
    article = site.get("/a/" + urllib.parse.quote(WORDS["跳表"])).get_data(as_text=True)
    assert "<code>文章.md</code>" in article and "<h1" in article and ">文章</h1>" in article
    sug = site.get("/api/suggest", query_string={"q": "子目录"}).get_json()["titles"]
    assert sug and sug[0]["name"] == "资料/文章.md" and sug[0]["path"] == WORDS["红黑树"]


def test_a_newline_in_a_name_is_not_a_dead_link(site):
    assert site.get("/a/a%0Ab.md").status_code == 200
    assert site.get("/a/a%0Ac.md").status_code == 404  # not indexed: still a 404
