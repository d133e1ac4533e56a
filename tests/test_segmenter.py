"""The accelerated segmenter (rjieba) gives jieba's words.

jieba 0.42.1 is the reference; rjieba must give the same tokens through the
analyzer on at least 99.9 % of the Han runs of real articles (the embedded
corpus always, a sample of ../shared/corpus when present), the same words
without HMM for code comments, and the same dictionary answers.
``bench/segmenters.py`` measures the whole development corpus and the speed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.analysis import Analyzer
from indexer.article import ArticleError, parse_article
from indexer.build import scan_corpus
from indexer.segmenter import read_userdict, rjieba_available
from tests.conftest import CORPUS, SHARED_CORPUS, needs_shared

pytestmark = pytest.mark.skipif(not rjieba_available(), reason="rjieba is not installed here")

USERDICT = CORPUS / "userdict.txt"
REQUIRED = 0.999


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> tuple[Analyzer, Analyzer]:
    jieba = Analyzer(USERDICT, segmenter="jieba", cache_dir=tmp_path_factory.mktemp("jieba")).load()
    rjieba = Analyzer(USERDICT, segmenter="rjieba").load()
    assert jieba.segmenter.name.startswith("jieba") and rjieba.segmenter.name.startswith("rjieba")
    return jieba, rjieba


def han_runs(root: Path, analyzer: Analyzer, every: int = 1) -> tuple[list[str], list[str]]:
    """Han runs of the word fields and (2+ characters) of the code of every
    ``every``-th article under ``root``: what the analyzer gives the segmenter."""
    files, _ = scan_corpus(root)
    words, code = [], []
    for k, (rel, path) in enumerate(sorted(files.items())):
        if k % every:
            continue
        try:
            a = parse_article(path.read_bytes(), rel)
        except ArticleError:
            continue
        for text in (a.title, "\n".join(a.keywords + a.tags), a.headings, a.description, a.body):
            words += analyzer.han_runs(text)
        code += [r for r in analyzer.han_runs(a.code) if len(r) >= 2]
    return words, code


def agreement(pair, runs: list[str], code: list[str]) -> tuple[float, float, list]:
    jieba, rjieba = pair
    differ = [(r, jieba.word_tokens_roles(r), rjieba.word_tokens_roles(r)) for r in runs]
    differ = [d for d in differ if d[1] != d[2]]
    code_differ = [r for r in code if jieba.plain_words(r) != rjieba.plain_words(r)]
    return 1 - len(differ) / len(runs), 1 - len(code_differ) / max(1, len(code)), differ


def test_tricky_runs_agree(pair):
    """What the adapter is for: characters outside jieba's Han block range
    (CJK extension A/B, compatibility ideographs), region words, user words,
    and search-mode sub-words that are prefixes of longer dictionary words."""
    jieba, rjieba = pair
    texts = [
        "𠮷野家的𠮷𠮷和㐀㐁两个字", "﨑山先生与豈字", "中华人民共和国成立了", "記憶體洩漏會導致執行緒阻塞",
        "分散式系統的伺服器", "自然语言处理与知识蒸馏", "GPT-4 拥有超过5000亿参数", "星河智算平台",
        "一二三四五六七八九十", "的的的的", "项目", "",
    ] + [w.word for w in read_userdict(USERDICT)]
    for text in texts:
        assert jieba.word_tokens_roles(text) == rjieba.word_tokens_roles(text), text
        assert jieba.code_words(text) == rjieba.code_words(text), text
    for word in ("中华人民", "中华人", "参数", "记忆体", "参"):
        assert jieba.is_word(word) == rjieba.is_word(word), word


@pytest.mark.slow
def test_embedded_corpus_agrees(pair):
    runs, code = han_runs(CORPUS, pair[0])
    assert len(runs) > 20_000
    words_rate, code_rate, differ = agreement(pair, runs, code)
    assert words_rate >= REQUIRED, differ[:5]
    assert code_rate >= REQUIRED


@pytest.mark.slow
@needs_shared
def test_development_corpus_sample_agrees(pair):
    """Every 8th article of ../shared/corpus (the whole corpus: bench/segmenters.py)."""
    runs, code = han_runs(SHARED_CORPUS, pair[0], every=8)
    assert len(runs) > 50_000
    words_rate, code_rate, differ = agreement(pair, runs, code)
    assert words_rate >= REQUIRED, differ[:5]
    assert code_rate >= REQUIRED
