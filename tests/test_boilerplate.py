"""Sentences copied into many articles are not passage evidence (issue 20,
points 4 and 5; ``search.boilerplate``).

A tutorial site copies its setup step ("首先 pip 换源加速下载并安装依赖包")
into every model's deployment tutorial.  For ``pip 安装`` that sentence puts
both words together in each tutorial; the one article about pip's mirrors,
which says them in separate sentences, must still come first.
"""

from __future__ import annotations

import dataclasses

import pytest

from indexer.analysis import Analyzer
from search.boilerplate import document_counts, sentence_keys
from search.engine import Engine, search
from search.query import DEFAULT_RANKING
from search.rerank import DocText, evidence
from search.snippets import Prepared
from search.weights import forms_df, unit_weights
from tests.conftest import build_index

MODELS = ["Qwen2-7B", "GLM-4-9B", "Yi-6B", "Gemma-2B", "Phi-3-mini", "InternLM2-7B"]
SETUP = "首先 `pip` 换源加速下载并安装依赖包，{m} 的依赖都在这里。"
PIP = "pip-mirrors.md"


def _tutorial(model: str) -> str:
    return f"""---
title: {model} FastApi 部署调用
---

## 环境准备

{SETUP.format(m=model).split('，')[0]}。用 pip 安装依赖之前先升级 pip 到最新版本。

```shell
pip install fastapi uvicorn
```

## 模型下载

使用 modelscope 中的 snapshot_download 函数下载 {model}，第一个参数为模型名称。

## 调用

启动服务后用 curl 调用 {model} 的接口，返回生成的文本。{model} 的推理速度与显存大小有关。
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Engine:
    corpus = tmp_path_factory.mktemp("boilerplate")
    for i, m in enumerate(MODELS):
        (corpus / f"{i:02d}-{m}.md").write_text(_tutorial(m), encoding="utf-8")
    (corpus / PIP).write_text("""---
title: pip 镜像源
---

pip 默认从官方的 PyPI 下载软件包，国内网络下常常很慢。

## 临时使用

命令后加上 -i 和镜像地址即可，只对这一次有效。

## 设为默认

升级 pip 后用 config set 设置默认镜像。

之后每次安装都会用它。
""", encoding="utf-8")
    index = corpus.parent / (corpus.name + "-ix")
    report = build_index(corpus, index)
    assert report.total == len(MODELS) + 1 and not report.skipped
    return Engine(index, cache_size=0)


def test_a_template_sentence_has_one_key_whatever_name_it_carries():
    a = sentence_keys("首先更新 pip 版本，并切换 pip 的安装源。下一句")
    b = sentence_keys("首先更新conda版本，并切换conda的安装源。下一句")
    assert len(a) == len(b) == 1  # "下一句": too short to be a copied sentence
    assert a[0][2] == b[0][2]
    assert a[0][:2] == (0, len("首先更新 pip 版本，并切换 pip 的安装源"))
    assert sentence_keys("首先更新 pip 版本，并切换 pip 的下载源")[0][2] != a[0][2]


def test_the_site_repeats_its_setup_sentence(site):
    gen = site.generation()
    counts = document_counts(gen.searcher().reader(), gen.analyzer.fold)
    folded = gen.analyzer.fold("首先 pip 换源加速下载并安装依赖包")[0]
    (key,) = [k for _s, _e, k in sentence_keys(folded)]
    assert counts[key] == len(MODELS)
    assert gen.repeated(gen.searcher()) == counts  # counted once per generation


def test_the_copied_sentence_is_no_evidence(site):
    gen = site.generation()
    searcher = gen.searcher()
    terms = [["pip"], ["安装"]]
    counts = gen.counts(searcher)
    prepared, weights = Prepared(terms), unit_weights([forms_df(t, counts) for t in terms], searcher.doc_count())
    repeated = gen.repeated(searcher)
    for docnum in searcher.reader().all_doc_ids():
        path = searcher.stored_fields(docnum)["path"]
        if path == PIP:
            continue
        plain = evidence(gen.stored.text(searcher, docnum), prepared, weights)
        masked = evidence(gen.stored.text(searcher, docnum, repeated), prepared, weights, 5)
        assert plain.sentence == 1.0, path  # the setup sentence has both words
        assert masked.sentence == 0.0 and masked.paragraph == 0.0, path


def test_the_article_about_pip_comes_before_the_tutorials(site):
    page = search(site, "pip 安装")
    assert page.total == len(MODELS) + 1
    assert page.hits[0].path == PIP, [h.path for h in page.hits]
    counting = dataclasses.replace(DEFAULT_RANKING, repeated_docs=0)
    assert search(site, "pip 安装", ranking=counting).hits[0].path != PIP  # what it was before


def test_few_copies_are_not_boilerplate():
    fold = Analyzer().fold
    fields = {"title_text": "t", "path": "a.md",
              "sections": [("", "", "首先 pip 换源加速下载并安装依赖包。", ())]}
    (key,) = [k for _s, _e, k in sentence_keys(fold("首先 pip 换源加速下载并安装依赖包")[0])]
    doc = DocText.of(fields, fold, {key: 3})
    ev = evidence(doc, Prepared([["pip"], ["安装"]]), [1.0, 1.0], 5)
    assert ev.sentence == 1.0  # in 3 articles: a quotation, still evidence
    assert evidence(doc, Prepared([["pip"], ["安装"]]), [1.0, 1.0], 3).sentence == 0.0


def test_counting_reads_the_same_sentences_as_evidence_does():
    from search.boilerplate import _keys

    text = ("首先更新 pip 版本（防止版本过低），并切换 pip 的安装源。短句。\n"
            "Setup: run it!\n这里是第二段落的第一个句子；这里是第二段落的第二个句子？end")
    assert _keys(text) == {k for _s, _e, k in sentence_keys(text)}
    assert len(_keys(text)) == 3


def test_a_new_generation_ranks_with_the_last_counts_while_its_own_are_made(tmp_path):
    """With --watch a generation may live a minute: its first search must not
    wait for a pass over every stored article."""
    from tests.test_watch import wait_for

    corpus = tmp_path / "c"
    corpus.mkdir()
    for i, m in enumerate(MODELS):
        (corpus / f"{i:02d}-{m}.md").write_text(_tutorial(m), encoding="utf-8")
    build_index(corpus, tmp_path / "ix")
    engine = Engine(tmp_path / "ix", cache_size=0)
    search(engine, "pip 安装")  # counts this generation's sentences
    old = engine.generation().tables.repeated.value
    (corpus / "00-Qwen2-7B.md").unlink()
    build_index(corpus, tmp_path / "ix")
    gen = engine.generation()
    assert gen.tables.repeated.previous is old
    assert search(engine, "pip 安装").total == len(MODELS) - 1  # answered with the old counts
    wait_for(lambda: gen.tables.repeated.value is not None, what="the new counts")
    assert sorted(gen.tables.repeated.value.values())[-1] == len(MODELS) - 1 == sorted(old.values())[-1] - 1
