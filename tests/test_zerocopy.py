"""Segments are read from the mmap, not copied per reader: memory per thread.

Whoosh's ``BufferFile`` copied every sub-file of a compound segment into a
private ``BytesIO`` for each reader; with one searcher per server thread that
was ~160 MB per thread on the development corpus.
"""

from __future__ import annotations

import io
import mmap
import pickle
import threading

from indexer import store, whoosh_compat
from indexer.whoosh_compat import ZeroCopyBufferFile
from indexer.zerocopy import MemoryViewFile
from search.engine import search


def test_memory_view_file_reads_seeks_and_unpickles(tmp_path):
    objs = [{"a": 1, "b": [1, 2, 3]}, "长" * 5000, list(range(300)), None]
    raw = b"".join(pickle.dumps(o) for o in objs) + b"tail\nline"
    path = tmp_path / "f"
    path.write_bytes(raw)
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        view = memoryview(mm)
        f = MemoryViewFile(view)
        assert [pickle.load(f) for _ in objs] == objs  # pickles larger than the peek window too
        assert f.read(4) == b"tail"
        assert f.readline() == b"\n"
        assert f.read() == b"line" and f.read(10) == b""
        assert f.seek(-4, io.SEEK_END) == len(raw) - 4 and f.tell() == len(raw) - 4
        assert f.seek(2, io.SEEK_CUR) == len(raw) - 2 and f.read(5) == b"ne"
        f.seek(0)
        buf = bytearray(3)
        assert f.readinto(buf) == 3 and bytes(buf) == raw[:3]
        sub = ZeroCopyBufferFile(view[10:40], name="x").subset(5, 10)
        assert sub.get(0, 10) == raw[15:25] and sub.read(4) == raw[15:19]
        del f, sub, view


def test_readers_of_a_generation_share_the_mapping(engine, corpus_index):
    """Every sub-file a searcher opens is a view over the segment's mmap."""
    ix, _gen = store.open_current(corpus_index)
    with ix.searcher() as s:
        seg_reader = s.reader() if not s.subsearchers else s.subsearchers[0][0].reader()
        files = whoosh_compat.segment_files(seg_reader)
        assert files, "no segment files found on the reader"
        # the term dictionary and postings are read as views of the mapping too
        for buf in whoosh_compat.terms_reader(seg_reader).buffers():
            assert isinstance(buf, memoryview) and isinstance(buf.obj, mmap.mmap)
        for f in files:
            assert isinstance(f, ZeroCopyBufferFile), type(f)
            assert isinstance(f.file, MemoryViewFile)
    ix.close()


def test_threads_answer_like_one(engine):
    """Searchers in 8 threads over the shared views give the same pages."""
    queries = ["GPT-4 参数", "部署", "transformer", "分布式 事务", "lora 微调", "模型"]
    expected = {q: [h.path for h in search(engine, q).hits] for q in queries}
    got: dict[tuple[int, str], list[str]] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for q in queries:
                got[(i, q)] = [h.path for h in search(engine, q).hits]
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(got[(i, q)] == expected[q] for i in range(8) for q in queries)
