"""Chinese-specific search: scripts, width and case, pinyin rescue, synonyms,
dictionaries and mixed scripts.

The article sentences are copied from real articles of the shared corpus
(d2l-zh, JavaGuide, llm-action, ms-swift, pingcap docs-cn, cloudwego,
AI-Guide-and-Demos, one-small-step); the traditional-script articles are those
sentences run through OpenCC (``s2t`` for characters, ``s2twp`` for Taiwan
vocabulary).  Where a test needs a variant that the corpus does not have (a
sentence written in full-width letters, ``fine-tune`` in place of ``微调``, a
made-up product name), the edit is noted next to it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer import analysis, store
from search.engine import Engine, search
from search.models import Filters, ResultPage
from search.query import DEFAULT_RANKING
from tests.conftest import CORPUS, build_index, write_article
from zhsearch.cli import main

# ---------------------------------------------------------------- articles

ARTICLES = {
    # --- simplified articles found by traditional queries
    "llm/peft.md": """---
title: 大模型参数高效微调技术原理综述
tags: [LLM, PEFT]
---

本文为大模型参数高效微调技术原理综述的第一篇。

此处的下游任务微调是基于模型全量参数进行微调。

通过 LoRA 进行参数高效微调和随机投影。
""",
    "java/distributed-transaction.md": """---
title: 分布式事务
tags: [分布式]
---

开始聊分布式事务之前，我们先来回顾一下事务相关的概念。

常用分布式事务解决方案有 Seata 和 Hmily。

针对分布式事务，又诞生了一些新的理论。
""",
    "cs/software.md": """---
title: 软件工程
---

将模型保存下来，以便它可以在其他软件中执行。

软件架构从单体到微服务再到无服务的演进之路。

缓存和数据库如何保证一致性？
""",
    # --- traditional articles (OpenCC s2t / s2twp of real sentences)
    "tw/params.md": """---
title: 模型參數初始化
---

深度學習框架通常有預定義的方法來初始化參數。

加載模型後GPU顯存變化量：+4606.12 ㎆，答案是由於模型參數包含梯度。
""",
    "tw/software.md": """---
title: 找工作
---

於是我重新下載了某聘軟體，在首頁推薦裡投了幾家公司。

資料庫連線池連線被佔住不釋放。
""",
    # --- width and case
    "llm/gpt4.md": """---
title: 本地匹配
tags: [LLM]
categories: [AI]
---

如关键问题先做本地匹配，失败后才调用GPT-4，提升效率。
""",
    "llm/gpt3.md": """---
title: 更大的模型
tags: [llm]
categories: [ai]
---

GPT-3 秉承传统：更大的数据集和更大的模型。
""",
    # real: "使用CLI对LoRA训练的checkpoint进行推理：", written here in full-width letters
    "llm/lora-cli.md": """---
title: ＬｏＲＡ 推理
tags: [ＬｏＲＡ]
---

使用ＣＬＩ对ＬｏＲＡ训练的ｃｈｅｃｋｐｏｉｎｔ进行推理：
""",
    # --- pinyin rescue: 实验 in three articles, 试验 in two
    "exp/derivative.md": "# 导数\n\n为了更好地解释导数，让我们做一个实验。\n",
    "exp/setup.md": "# 准备\n\n在实验开始前，导入所需的包或模块。\n",
    "exp/command.md": "# 命令\n\n可以用下面的命令做个小实验：\n",
    "exp/hyper.md": "# 超参数\n\n设置超参数很棘手，需要通过反复试验进行调整。\n",
    "exp/bandwidth.md": "# 带宽\n\n该过程重复 3 次，并报告每次试验的中值带宽。\n",
    "rag/vector-db.md": """# 向量数据库

RAG 场景为什么需要向量数据库？

向量数据库并不是直接理解文本。它存储和检索的是 Embedding。
""",
    "rag/vector.md": """# 注意力评分

是通过注意力评分函数$a$将两个向量映射成标量，

把 RAG 简化成向量数据库接入。
""",
    # "canshu" occurs once, as a variable name in code: a weak match
    "code/gpu.md": """# 放到 GPU 上

下面的代码将模型参数放在GPU上。

```python
canshu = net.to(device)
```
""",
    "java/redis.md": """---
title: 如何基于Redis实现消息队列？
---

常见的导致 Redis 阻塞原因有：

Redis 为什么快？缓存穿透、击穿、雪崩如何处理？
""",
    # --- synonyms: the same sentence, once with the typed word and once with
    # a synonym only (real: "先看看在未进行微调的情况下，模型的表现如何。")
    "syn/typed.md": "# 模型的表现\n\n先看看在未进行微调的情况下，模型的表现如何。\n",
    "syn/synonym.md": "# 模型的表现\n\n先看看在未进行 fine-tune 的情况下，模型的表现如何。\n",
    "gpu/memory.md": "# 张量\n\n在GPU上创建的张量只消耗这个GPU的显存。\n",
    # real: "推理时的显存占用主要包括：" with VRAM for 显存
    "gpu/vram.md": "# 推理\n\n推理时的 VRAM 占用主要包括：\n",
    # --- mixed scripts: d2l directives and TeX, Hugo shortcodes, kana, hangul, emoji
    "mixed/d2l.md": r"""# softmax回归的简洁实现
:label:`sec_softmax_concise`

在 :numref:`sec_linear_concise`中，
我们发现通过深度学习框架的高级API能够使实现线性回归变得更加容易。

$$
\begin{aligned}
\hat y_j & =  \frac{\exp(o_j - \max(o_k))\exp(\max(o_k))}{\sum_k \exp(o_k - \max(o_k))\exp(\max(o_k))} \\
& = \frac{\exp(o_j - \max(o_k))}{\sum_k \exp(o_k - \max(o_k))}.
\end{aligned}
$$

在减法和规范化步骤之后，可能有些$o_j - \max(o_k)$具有较大的负值，
其中$\mathbf{x}$是输入。

(**MNIST数据集**) :cite:`LeCun.Bottou.Bengio.ea.1998`

desc: 中国語を日本語と英語で勉強。日中家庭の言語教育の悩みを解消したい。

한국어 사용자도 이 문서를 읽을 수 있습니다.

- 🐼 [LLM参数高效微调技术原理](#llm微调技术原理)
- 🌋 [分布式AI框架](#分布式ai框架)

{{< cardpane >}}
{{< card header="华兴证券在混合云原生架构下的 Kitex 实践" img="/img/usedby/huaxing.png">}}
华兴证券是 CloudWeGo 企业用户，使用 Kitex 框架完成混合云部署下的跨机房调用。<br/><br/>
<a href='{{< relref "huaxingsec" >}}'>了解更多</a>
{{< /card >}}
{{< /cardpane >}}

{{< copyable "sql" >}}

```sql
SELECT tidb_version();
```
""",
}


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def zh(tmp_path_factory):
    """A small real index of the articles above, with the shipped synonyms file."""
    base = tmp_path_factory.mktemp("zh")
    corpus = base / "corpus"
    for rel, text in ARTICLES.items():
        write_article(corpus, rel, text)
    synonyms = base / "synonyms.txt"
    shutil.copyfile(CORPUS / "synonyms.txt", synonyms)
    index = base / "ix"
    report = build_index(corpus, index)
    assert not report.skipped, report.skipped
    assert report.total == len(ARTICLES)

    class Zh:
        pass

    z = Zh()
    z.corpus, z.index, z.synonyms, z.report = corpus, index, synonyms, report
    z.engine = Engine(index, synonyms)
    return z


def run(z, query: str, **kw) -> ResultPage:
    kw.setdefault("per_page", 50)
    return search(z.engine, query, **kw)


def paths(page: ResultPage) -> list[str]:
    return [h.path for h in page.hits]


def strict(page: ResultPage) -> list[str]:
    """Hits that matched every word (before the "most words" backfill)."""
    m = re.search(r"只有 (\d+) 篇文章包含所有关键词", page.note or "")
    if page.note and "没有同时包含所有关键词" in page.note:
        return []
    return paths(page)[:int(m.group(1))] if m else paths(page)


def marks(fragment: str) -> list[str]:
    return re.findall(r"<mark>(.*?)</mark>", fragment)


def lexicon(index: Path, field: str) -> set[str]:
    ix, _ = store.open_current(index)
    try:
        with ix.reader() as r:
            return {t.decode("utf-8") if isinstance(t, bytes) else t for t in r.lexicon(field)}
    finally:
        ix.close()


# ================================================ traditional ↔ simplified

@pytest.mark.parametrize("query, expected", [
    ("微調 模型", "llm/peft.md"),
    ("參數", "llm/peft.md"),
    ("分散式 交易", "java/distributed-transaction.md"),  # Taiwan words: 分散式 = 分布式, 交易 = 事务
])
def test_traditional_query_finds_simplified_article(zh, query, expected):
    page = run(zh, query)
    assert expected in strict(page), (query, paths(page), page.note)


def test_traditional_and_simplified_queries_rank_alike(zh):
    assert paths(run(zh, "微調")) == paths(run(zh, "微调"))
    assert paths(run(zh, "參數")) == paths(run(zh, "参数"))


def test_simplified_query_finds_traditional_article_and_marks_original_characters(zh):
    page = run(zh, "参数")
    hit = next(h for h in page.hits if h.path == "tw/params.md")
    assert "<mark>參數</mark>" in hit.snippet_html
    assert set(marks(hit.snippet_html)) == {"參數"}
    assert hit.title_html == "模型<mark>參數</mark>初始化"


def test_highlight_offsets_exact_after_characters_that_fold_to_two(zh):
    # ㎆ folds to "mb" (two characters): the marks after it must still land
    # on the original characters, not one off.
    page = run(zh, "梯度 参数")
    hit = next(h for h in page.hits if h.path == "tw/params.md")
    assert "㎆" in hit.snippet_html
    assert "<mark>梯度</mark>" in hit.snippet_html
    assert "<mark>參數</mark>" in hit.snippet_html
    assert set(marks(hit.snippet_html)) == {"梯度", "參數"}


@pytest.mark.parametrize("query, expected", [
    ("軟體", "cs/software.md"),  # Taiwan 軟體 = mainland 软件
    ("資料庫", "cs/software.md"),  # Taiwan 資料庫 = mainland 数据库
])
def test_region_vocabulary_query_finds_mainland_article(zh, query, expected):
    page = run(zh, query)
    assert expected in paths(page), (query, paths(page))
    hit = next(h for h in page.hits if h.path == expected)
    assert marks(hit.snippet_html), hit.snippet_html


def test_region_vocabulary_taiwan_article_found_by_its_own_words(zh):
    assert "tw/software.md" in paths(run(zh, "資料庫"))
    assert "tw/software.md" in paths(run(zh, "软体"))  # 軟體 folded character by character


@pytest.mark.parametrize("query", ["软件", "数据库"])
def test_region_vocabulary_mainland_query_finds_taiwan_article(zh, query):
    # OpenCC knows both directions (TWPhrases: 软件 → 軟體, 数据库 → 資料庫)
    page = run(zh, query)
    assert "tw/software.md" in paths(page), (query, paths(page))


# ======================================================== width and case

def test_fullwidth_latin_digits_punctuation_equal_halfwidth(zh):
    full = run(zh, "ＧＰＴ－４")
    half = run(zh, "GPT-4")
    assert paths(full) == paths(half) == ["llm/gpt4.md"]  # not GPT-3
    assert "<mark>GPT-4</mark>" in full.hits[0].snippet_html
    assert paths(run(zh, "gpt-4")) == paths(half)


def test_fullwidth_article_found_by_halfwidth_query_any_case(zh):
    results = {q: paths(run(zh, q)) for q in ("lora", "LoRA", "LORA", "ＬｏＲＡ", "ｌｏｒａ")}
    first = results["lora"]
    assert {"llm/lora-cli.md", "llm/peft.md"} <= set(first)
    assert all(r == first for r in results.values()), results
    hit = next(h for h in run(zh, "LoRA").hits if h.path == "llm/lora-cli.md")
    assert "<mark>ＬｏＲＡ</mark>" in hit.snippet_html
    assert "<mark>ＬｏＲＡ</mark>" in hit.title_html


@pytest.mark.parametrize("tag", ["llm", "LLM", "Llm", "ＬＬＭ"])
def test_tag_filter_case_and_width_insensitive(zh, tag):
    page = run(zh, f"tag:{tag}")
    assert sorted(paths(page)) == ["llm/gpt3.md", "llm/gpt4.md", "llm/peft.md"]
    page = run(zh, "模型", filters=Filters(tags=tag))
    assert sorted(paths(page)) == ["llm/gpt3.md", "llm/peft.md"]


@pytest.mark.parametrize("tag", ["lora", "LoRA", "ＬｏＲＡ"])
def test_fullwidth_tag_matched_by_any_form(zh, tag):
    assert paths(run(zh, f"tag:{tag}")) == ["llm/lora-cli.md"]


def test_category_filter_case_insensitive(zh):
    assert sorted(paths(run(zh, "category:AI"))) == ["llm/gpt3.md", "llm/gpt4.md"]
    assert sorted(paths(run(zh, "category:ai"))) == ["llm/gpt3.md", "llm/gpt4.md"]


# ========================================================== pinyin rescue

@pytest.mark.parametrize("query, suggestion", [
    ("weitiao", "微调"),
    ("WeiTiao", "微调"),
    ("xiangliang shujuku", "向量 数据库"),
    ("xiangliangshujuku", "向量数据库"),
    ("shiyan", "实验"),  # 实验 (3 articles) is more common here than 试验 (2)
])
def test_pinyin_query_offers_chinese_words(zh, query, suggestion):
    page = run(zh, query)
    assert page.total == 0
    assert page.suggestion == suggestion
    assert page.query == query  # offered, never silently rewritten


def test_pinyin_rescue_also_for_weak_matches(zh):
    page = run(zh, "canshu")  # one hit: a variable name in a code block
    assert paths(page) == ["code/gpu.md"]
    assert page.suggestion == "参数"


def test_pinyin_suggestion_comes_from_the_index_vocabulary(zh):
    # 西瓜 is a perfectly good reading of "xigua", but no article uses it
    assert run(zh, "xigua").suggestion is None


@pytest.mark.parametrize("query, expected", [("lora", "llm/lora-cli.md"), ("redis", "java/redis.md"),
                                             ("Redis", "java/redis.md")])
def test_real_english_query_is_never_rewritten(zh, query, expected):
    page = run(zh, query)
    assert expected in paths(page)
    assert page.suggestion is None
    assert page.query == query


# ================================================================ synonyms

def test_synonyms_widen_but_typed_word_ranks_first(zh):
    page = run(zh, "微调")
    p = paths(page)
    assert "syn/typed.md" in p and "syn/synonym.md" in p
    assert p.index("syn/typed.md") < p.index("syn/synonym.md")
    # and the other way round: what was typed wins
    p = paths(run(zh, "fine-tune"))
    assert "syn/typed.md" in p and "syn/synonym.md" in p
    assert p.index("syn/synonym.md") < p.index("syn/typed.md")


def test_synonyms_file_edit_applies_without_reindex(zh, tmp_path):
    """The site's file lies over the built-in glossary (which pairs 显存 and
    VRAM): a line naming 显存 replaces the glossary's line for it, and
    removing the line brings the glossary's back, with no re-index."""
    syn = tmp_path / "synonyms.txt"
    syn.write_text("# 自定义同义词\n", encoding="utf-8")
    engine = Engine(zh.index, syn)
    generation = store.read_current(zh.index).name

    typed = {"gpu/memory.md", "tw/params.md"}  # 显存, and 顯存 in the traditional article
    p = paths(search(engine, "显存"))
    assert set(p) == typed | {"gpu/vram.md"}  # the glossary's VRAM
    assert p.index("gpu/vram.md") > p.index("gpu/memory.md")  # below the article about the typed word

    syn.write_text("# 自定义同义词\n显存, 视频内存\n", encoding="utf-8")
    st = syn.stat()
    os.utime(syn, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    assert set(paths(search(engine, "显存"))) == typed  # the site's line replaced the glossary's
    p = paths(search(engine, "vram"))  # a term the site did not name keeps the glossary's line
    assert p[0] == "gpu/vram.md" and set(p) == typed | {"gpu/vram.md"}

    syn.write_text("# 自定义同义词\n", encoding="utf-8")
    os.utime(syn, ns=(st.st_atime_ns, st.st_mtime_ns + 4_000_000_000))
    assert set(paths(search(engine, "显存"))) == typed | {"gpu/vram.md"}
    assert store.read_current(zh.index).name == generation  # no re-index happened


def test_builtin_glossary_without_any_synonyms_file(zh, tmp_path):
    """A site without synonyms.txt still bridges abbreviations and English /
    Chinese names; the glossary's terms rank below the typed word, and
    ``glossary_weight=0`` turns them off."""
    engine = Engine(zh.index, tmp_path / "no-such-synonyms.txt")
    p = paths(search(engine, "显存"))
    assert "gpu/vram.md" in p and p.index("gpu/vram.md") > p.index("gpu/memory.md")
    off = replace(DEFAULT_RANKING, glossary_weight=0.0)
    assert "gpu/vram.md" not in paths(search(engine, "显存", ranking=off))
    assert paths(search(engine, "vram"))[0] == "gpu/vram.md"


# ============================================================ dictionaries

PRODUCT = "星河智算"  # a made-up product name jieba cannot know
PRODUCT_ARTICLES = {
    "cloud/intro.md": "# 平台简介\n\n星河智算是一个面向大模型训练的算力平台。\n\n我们在星河智算上部署了 Qwen3 模型。\n\n"
                      "通过星河智算，可以按需申请 GPU 资源。\n",
    "cloud/cost.md": "# 成本\n\n相比自建集群，星河智算的成本更低。\n\n使用星河智算训练 LoRA 模型时，需要先上传数据集。\n",
    "cloud/train.md": "# 分布式训练\n\n星河智算支持多机多卡的分布式训练。\n\n登录星河智算控制台后即可创建任务。\n\n"
                      "目前星河智算提供免费试用额度。\n",
    "cloud/queue.md": "# 排队\n\n如果星河智算的队列已满，任务会自动排队。\n\n关于星河智算的更多信息，请参考官方文档。\n",
    # real sentences without the product
    "java/tx.md": "# 分布式事务\n\n常用分布式事务解决方案有 Seata 和 Hmily。\n\n针对分布式事务，又诞生了一些新的理论。\n",
    "gpu/memory.md": "# 显存\n\n在GPU上创建的张量只消耗这个GPU的显存。\n\n推理时的显存占用主要包括：\n",
}


def product_corpus(root: Path) -> Path:
    for rel, text in PRODUCT_ARTICLES.items():
        write_article(root, rel, text)
    assert sum(t.count(PRODUCT) for t in PRODUCT_ARTICLES.values()) == 10
    return root


@pytest.mark.slow
def test_userdict_loaded_and_dictionary_change_rebuilds_synonyms_change_does_not(tmp_path):
    corpus = product_corpus(tmp_path / "corpus")
    index = tmp_path / "ix"
    report = build_index(corpus, index)
    assert report.rebuilt and report.total == len(PRODUCT_ARTICLES)
    assert PRODUCT not in lexicon(index, "body")  # cut into pieces by stock jieba

    # `zhsearch index` picks up corpus/userdict.txt and rebuilds, saying why
    (corpus / "userdict.txt").write_text(f"# 产品名\n{PRODUCT} 300 n\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["index", "--corpus", str(corpus), "--index", str(index)],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "full build" in r.output and "user dictionary" in r.output
    assert PRODUCT in lexicon(index, "body")
    page = search(Engine(index), PRODUCT, per_page=20)
    assert len(page.hits) == 4
    assert all(f"<mark>{PRODUCT}</mark>" in h.snippet_html for h in page.hits)

    # nothing changed: nothing done
    report = build_index(corpus, index)
    assert not report.changed and not report.rebuilt

    # a synonyms edit is a query-time matter: no re-index
    (corpus / "synonyms.txt").write_text(f"{PRODUCT}, Galaxy AI Cloud\n", encoding="utf-8")
    report = build_index(corpus, index)
    assert not report.rebuilt and not report.changed and report.rebuild_reason is None

    # another dictionary edit: full rebuild with a reason
    with (corpus / "userdict.txt").open("a", encoding="utf-8") as f:
        f.write("算力平台 200 n\n")
    report = build_index(corpus, index)
    assert report.rebuilt
    assert report.rebuild_reason and "user dictionary" in report.rebuild_reason
    assert report.total == len(PRODUCT_ARTICLES)
    assert "算力平台" in lexicon(index, "body")


@pytest.mark.slow
def test_words_command_discovers_unknown_term(tmp_path):
    corpus = product_corpus(tmp_path / "corpus")
    index = tmp_path / "ix"
    runner = CliRunner()
    args = ["words", "--corpus", str(corpus), "--index", str(index), "--top", "20"]

    r = runner.invoke(main, args, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    rows = [line.split("\t") for line in r.stdout.splitlines() if line.strip()]
    assert rows and all(len(row) == 3 for row in rows), r.stdout
    words = {row[0]: (int(row[1]), float(row[2])) for row in rows}
    assert PRODUCT in words and words[PRODUCT][0] == 10
    assert rows[0][0] == PRODUCT  # the best candidate
    scores = [float(row[2]) for row in rows]
    assert scores == sorted(scores, reverse=True)
    for fragment in ("星河智", "河智算", "智算", "河智"):  # pieces of the word are not words
        assert fragment not in words
    assert "userdict.txt" in r.output  # the hint on how to add them

    data = json.loads(runner.invoke(main, args + ["--json"], catch_exceptions=False).stdout)
    entry = next(w for w in data["words"] if w["word"] == PRODUCT)
    assert entry["count"] == 10 and len(entry["pieces"]) >= 2

    # once in the user dictionary it is not new any more
    (corpus / "userdict.txt").write_text(f"{PRODUCT} 300 n\n", encoding="utf-8")
    r = runner.invoke(main, args, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert PRODUCT not in {line.split("\t")[0] for line in r.stdout.splitlines()}


# ========================================================== mixed scripts

MIXED = "mixed/d2l.md"
_KANA_HANGUL_EMOJI = re.compile("[\u3040-\u30ff\u31f0-\u31ff\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"
                                "\U0001f000-\U0001faff\u2600-\u27bf]")
POLLUTION = {
    # TeX
    "mathbf", "frac", "hat", "exp", "max", "sum", "begin", "aligned", "end",
    # d2l directives and their targets
    "label", "numref", "cite", "sec_softmax_concise", "sec_linear_concise", "sec", "softmax_concise",
    "linear_concise", "lecun", "bottou", "bengio", "lecun.bottou.bengio.ea.1998",
    # Hugo shortcodes and their arguments
    "cardpane", "card", "relref", "huaxingsec", "copyable", "img", "usedby", "huaxing.png", "png", "header",
    # HTML and code
    "br", "href", "sql", "select", "tidb_version",
}


def test_mixed_scripts_article_indexes_and_is_searchable(zh):
    assert MIXED in zh.report.added
    assert not [w for w in zh.report.warnings if w[0] == MIXED]
    for query in ("规范化", "线性回归", "华兴证券", "跨机房调用", "softmax", "MNIST"):
        assert MIXED in paths(run(zh, query)), query
    hit = next(h for h in run(zh, "华兴证券").hits if h.path == MIXED)
    assert "{{" not in hit.snippet_html and "relref" not in hit.snippet_html


@pytest.mark.parametrize("field", ["body", "headings", "title"])
def test_mixed_scripts_do_not_pollute_the_vocabulary(zh, field):
    terms = lexicon(zh.index, field)
    assert terms  # the field is really there
    assert not (POLLUTION & terms), sorted(POLLUTION & terms)
    assert not [t for t in terms if _KANA_HANGUL_EMOJI.search(t)]
    assert not [t for t in terms if "\\" in t or "$" in t or "{" in t or ":" in t]


def test_mixed_scripts_do_not_pollute_bigrams(zh):
    terms = lexicon(zh.index, "bigram")
    assert not [t for t in terms if _KANA_HANGUL_EMOJI.search(t)]


@pytest.mark.parametrize("text", [
    "中国語を日本語と英語で勉強。",
    "한국어 사용자도 이 문서를 읽을 수 있습니다.",
    "🐼🌋 表情 👨‍👩‍👧 ‍️",
    "$$\\frac{a}{b}$$ {{< copyable \"sql\" >}} :label:`sec_x`",
    "\u200b\ufeff\u00ad\u0301",
])
def test_analysis_never_crashes_on_mixed_text(text):
    an = analysis.Analyzer()
    toks = an.word_tokens(text)
    grams = an.bigram_tokens(text)
    for t, _pos, a, b in toks + grams:
        assert 0 <= a < b <= len(text)
        assert an.fold_query(text[a:b]) == t or t in an.fold_query(text[a:b])
