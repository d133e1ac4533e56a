"""A question's best candidates re-ordered by what their passages mean.

``indexer.embeddings`` keeps each article's passage vectors (the install
extra ``zhsearch[embeddings]``).  For a natural-language question the best
:data:`Ranking.semantic_depth` candidates of the lexical order are re-ordered
by their score (divided by the best one's) plus ``Ranking.semantic_weight``
times how close the question's vector comes to the article's three closest
passages (their mean cosine, min-max scaled over those candidates).  Only
questions: for the words of a topic the lexical engine is far better, and
for questions it finds the articles and the vectors say which one answers
(measured on both development collections: ``bench/README.md``, "Passage
embeddings for questions").

Nothing changes unless every one of those candidates has vectors (an
article added a moment ago is embedded after the lexical publish): a
partly embedded list would rank the embedded ones on a different scale.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from indexer import embeddings

from .lru import LRU

log = logging.getLogger(__name__)

#: An article's closeness to a question: the mean of its best this many passages.
BEST_PASSAGES = 3
#: Question vectors kept per process.
QUERY_VECTORS = 512


class Semantic:
    """The encoder and the vector file of one index directory."""

    def __init__(self, index_dir: Path | str, embedder: embeddings.Embedder | None = None) -> None:
        self.vectors = embeddings.VectorStore(index_dir)
        self.embedder = embedder or embeddings.Embedder(threads=1)
        self._queries: LRU[str, np.ndarray] = LRU(QUERY_VECTORS)

    @classmethod
    def of(cls, index_dir: Path | str) -> Semantic | None:
        """For ``index_dir`` when the extra is installed, else None."""
        return cls(index_dir) if embeddings.available() else None

    def query_vector(self, text: str) -> np.ndarray:
        return self._queries.get_or_make(text, lambda: self.embedder.encode([text])[0])

    def closeness(self, text: str, hashes: list[str]) -> np.ndarray | None:
        """Each article's closeness to ``text`` (None unless all have vectors)."""
        if not hashes or not self.vectors.exists():
            return None
        found = self.vectors.get(sorted(set(hashes)))
        if any(h not in found for h in hashes):
            return None
        # one product over all their passages (float16 as stored, widened once)
        mats = [found[h] for h in hashes]
        sims = np.concatenate(mats).astype(np.float32) @ self.query_vector(text)
        parts = np.split(sims, np.cumsum([len(m) for m in mats])[:-1])
        return np.array([np.sort(p)[::-1][:BEST_PASSAGES].mean() for p in parts], dtype=np.float32)

    def reorder(self, text: str, ranked: list[int], scores, hashes: list[str], weight: float) -> list[int]:
        """``ranked`` (the candidates ``hashes`` belong to, best first) in
        the fused order; unchanged when not every one has vectors."""
        near = self.closeness(text, hashes)
        if near is None or len(ranked) < 2:
            return ranked
        lexical = np.array([float(scores[d]) for d in ranked], dtype=np.float64)
        top = lexical.max()
        lexical = lexical / top if top > 0 else lexical
        spread = float(near.max() - near.min())
        scaled = (near - near.min()) / spread if spread > 0 else np.zeros_like(near)
        fused = lexical + weight * scaled
        order = sorted(range(len(ranked)), key=lambda i: -fused[i])  # stable: ties keep the lexical order
        return [ranked[i] for i in order]
