"""Reading one markdown article: tests/fixtures/articles against EXPECTED.md, the seed
article, and small inline articles for the markdown → plain-text rules."""

from __future__ import annotations

import datetime as dt
import hashlib
import os

import pytest

from indexer.article import Article, ArticleError, parse_article, read_article
from indexer.build import scan_corpus
from tests.conftest import CORPUS, FIXTURES

SEED = CORPUS / "chatgpt-info" / "what-is-chatgpt.md"


def fixture(name: str) -> Article:
    return read_article(FIXTURES / name, FIXTURES)


def parse(text: str, rel: str = "docs/a.md", **kw) -> Article:
    return parse_article(text.encode("utf-8"), rel, **kw)


def headings(a: Article) -> list[tuple[int, str]]:
    return [(s.level, s.heading) for s in a.sections if s.heading]


def anchors(a: Article) -> dict[str, str]:
    return {s.heading: s.anchor for s in a.sections if s.heading}


def all_text_fields(a: Article) -> list[str]:
    out = [a.path, a.title, a.description, a.permalink, a.code, *a.tags, *a.categories, *a.keywords]
    for s in a.sections:
        out += [s.heading, s.anchor, s.text]
    return out


# --------------------------------------------------------------------------- folder


def test_folder_scan_reads_every_md_file_case_insensitively():
    found, skipped = scan_corpus(FIXTURES)
    assert skipped == []
    assert len(found) == 17
    assert "UPPER.MD" in found
    assert "back\\slash.md" in found  # one component, literal backslash
    assert "名字 有空格 & 符号《书名》.md" in found
    assert "make_articles.py" not in found


def test_folder_totals_16_articles_and_binary_skipped():
    articles, errors = [], {}
    found, _ = scan_corpus(FIXTURES)
    for rel, path in found.items():
        try:
            articles.append(read_article(path, FIXTURES))
        except ArticleError as exc:
            errors[rel] = str(exc)
    assert sorted(errors) == ["binary.md"]
    assert "binary" in errors["binary.md"].lower()
    assert len(articles) == 16


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir() if p.name != "binary.md"))
def test_no_cr_or_bom_in_any_field(name):
    a = fixture(name)
    for value in all_text_fields(a):
        assert "\r" not in value, (name, value)
        assert "\ufeff" not in value, (name, value)
        assert "\ufffd" not in value, (name, value)


# ------------------------------------------------------------------- fixture table


def test_crlf():
    a = fixture("crlf.md")
    assert a.title == "接口幂等性设计与实现"
    assert a.tags == ["幂等", "高并发"]
    assert a.categories == ["后端", "系统设计"]
    assert a.date == dt.datetime(2023, 3, 15, 9, 30)
    assert "支付回调" in a.headings  # EXPECTED: "body contains 支付回调" (heading text)
    assert "支付平台可能多次回调" in a.body
    assert headings(a) == [(1, "接口幂等性设计与实现"), (2, "支付回调的幂等")]
    assert a.permalink == "/crlf.html"
    assert a.warnings == []


def test_bom_front_matter_found():
    a = fixture("bom.md")
    assert a.title == "使用 LoRA 微调大模型"
    assert a.tags == ["LoRA", "微调"]
    assert a.categories == ["大模型"]
    assert a.date == dt.datetime(2024, 1, 20, 20, 15)
    assert "低秩矩阵" in a.body
    assert "title:" not in a.body
    assert "---" not in a.body


def test_gbk_decoded_as_gb18030_with_warning():
    a = fixture("gbk.md")
    assert a.title == "中文标题GBK"
    assert a.tags == ["编码"]
    assert a.categories == ["杂谈"]
    assert a.date == dt.datetime(2019, 8, 12)
    assert "记事本" in a.body
    assert any("GB18030" in w for w in a.warnings)


def test_horizontal_rule_after_blank_lines_is_not_front_matter():
    a = fixture("hr-not-frontmatter.md")
    assert a.title == "自洽的思维链蒸馏"
    assert a.tags == [] and a.categories == [] and a.keywords == []
    assert a.description == ""
    # the paragraph between the two rules is kept (frontmatter.load would drop it)
    assert "对比解码" in a.body
    assert "反事实推理" in a.body
    assert "知识蒸馏" in a.body
    assert a.date is None  # undated: no file time (a copy or clone would date it "today")
    assert a.warnings == []


def test_null_tags_empty_lastmod_quoted_date():
    a = fixture("null-tags.md")
    assert a.title == "Kitex 熔断器使用指南"
    assert a.tags == []
    assert a.categories == []
    assert a.date == dt.datetime(2023, 5, 6, 10, 0)
    assert a.description == "介绍 Kitex 中服务粒度熔断和实例粒度熔断的配置方法。"
    assert a.warnings == []


def test_meta_and_head_keywords():
    a = fixture("meta-keywords.md")
    assert a.title == "提示词工程入门"
    assert a.keywords == ["提示词", "Prompt", "大模型", "思维链", "few-shot"]
    assert a.tags == ["Prompt"]  # keywords are not tags
    assert a.categories == ["AI"]
    assert a.date == dt.datetime(2024, 2, 24, 12, 10, 8)
    assert a.permalink == "/pages/prompt-intro/"
    assert a.description.startswith("介绍提示词的基本写法")


def test_no_title_falls_back_to_file_name():
    a = fixture("no-title.md")
    assert a.title == "no-title"
    assert headings(a) == [(2, "背景")]
    assert "令牌桶" in a.body
    assert "安装依赖" not in a.body  # fenced code is not body text
    assert "缩进代码块" not in a.body
    assert "安装依赖" in a.code
    assert "缩进代码块里的注释" in a.code
    assert a.date is None


def test_upper_case_extension():
    a = fixture("UPPER.MD")
    assert a.path == "UPPER.MD"
    assert a.title == "知识管理与博客主题"
    assert "个人知识库" in a.body


def test_spaces_ampersand_book_title_marks_in_name():
    name = "名字 有空格 & 符号《书名》.md"
    a = fixture(name)
    assert a.path == name
    assert a.title == "名字 有空格 & 符号《书名》"
    assert "虚拟内存" in a.body
    assert a.sections and all(not s.heading for s in a.sections)


def test_backslash_in_name_is_one_component():
    a = fixture("back\\slash.md")
    assert a.path == "back\\slash.md"
    assert a.title == "Windows 路径中的反斜杠"
    assert "/" not in a.path
    assert a.permalink == "/back\\slash.html"


def test_broken_yaml_indexed_with_warning():
    a = fixture("broken-yaml.md")
    assert a.title == "YAML 解析失败的文章"
    assert a.tags == []  # the YAML tag is not recovered
    assert "缓存雪崩" in a.body
    assert "title:" not in a.body
    assert len(a.warnings) == 1 and "YAML" in a.warnings[0]


def test_binary_raises_article_error():
    with pytest.raises(ArticleError, match="binary"):
        fixture("binary.md")


def test_markdown_features():
    a = fixture("markdown-features.md")
    assert a.title == "Markdown 语法特性测试"
    assert a.tags == ["Markdown"]
    assert a.categories == ["写作"]
    assert a.date == dt.datetime(2022, 11, 11, 11, 11, 11)
    assert a.permalink == "/pages/markdown-features/"  # permalink wins over slug
    assert headings(a) == [(1, "Markdown 语法特性测试"), (2, "GPT-4 的参数"), (3, "参数量估算")]
    assert anchors(a)["GPT-4 的参数"] == "gpt-4-的参数"
    body = a.body
    for needle in ("链接文字", "图片说明", "HTML内文字", "jieba.lcut", "GPT-3", "1750 亿", "短代码里的提示文字"):
        assert needle in body, needle
    for bad in ("<div", "<!--", "more -->", "{{<", "](", "![", "img/a.png", "https://example.com/x", "example.com"):
        assert bad not in body, bad
    # fenced code is kept apart from the sections
    assert "函数名" in a.code
    assert all("def " not in s.text for s in a.sections)


def test_xss_title_and_tag_kept_raw():
    a = fixture("xss.md")
    # EXPECTED.md: the title is the raw string, stored as is and escaped on output
    assert a.title == "<img src=x onerror=alert(1)>"
    assert a.tags == ["<b>tag</b>"]
    assert a.categories == ["安全"]
    assert a.date == dt.datetime(2021, 7, 1)


def test_xss_body_has_no_script():
    a = fixture("xss.md")
    assert "跨站脚本攻击" in a.body
    assert "<script" not in a.body
    assert "alert(1)" not in a.body


def test_javascript_link_keeps_its_text_not_its_url():
    a = fixture("xss.md")
    assert "这样的链接" in a.body  # link text kept ...
    assert "javascript:" not in a.body  # ... its URL is not body text
    assert "](" not in a.body  # and no markdown syntax leaks into the text


def test_date_slash_string():
    a = fixture("date-formats.md")
    assert a.title == "斜杠分隔的日期"
    assert a.tags == ["日期"]
    assert a.date == dt.datetime(2021, 3, 4)


def test_date_yaml_date_object():
    a = fixture("date-obj.md")
    assert a.title == "YAML 日期对象"
    assert a.date == dt.datetime(2020, 1, 2)
    assert type(a.date) is dt.datetime


def test_expected_md_itself():
    a = fixture("EXPECTED.md")
    assert a.title == "Expected reader output for the fixture articles"
    assert a.tags == [] and a.categories == []


# ---------------------------------------------------------------------- seed


def test_seed_article():
    a = read_article(SEED, CORPUS)
    assert a.path == "chatgpt-info/what-is-chatgpt.md"
    assert a.title == "ChatGPT是什么？"
    assert "大模型" in a.keywords
    assert a.keywords[:3] == ["ChatGPT", "OpenApi", "大模型"]
    assert a.tags == ["ChatGPT", "OpenApi"]
    assert a.categories == ["ChatGPT账号"]
    assert a.date == dt.datetime(2024, 2, 24, 12, 10, 8)
    assert a.permalink == "/chatgpt-info/what-is-chatgpt.html"
    assert a.description.startswith("在注册过程中")
    assert a.warnings == []
    hs = anchors(a)
    assert hs["GPT模型的发展历程"] == "gpt模型的发展历程"
    assert (1, "ChatGPT是什么？") in headings(a)
    body = a.body
    # link text is kept, URLs and image targets are not
    assert "一分钟开卡" in body
    for bad in ("http", "openai.com/", "aliyuntm.com", "bewildcard", ".png", "<!--", "more -->", "](", "![", "**"):
        assert bad not in body, bad
    gpt4 = next(s for s in a.sections if s.heading == "GPT模型的发展历程")
    assert "5000亿参数" in gpt4.text
    assert "GPT-3.5：于2022年11月发布" in gpt4.text


# ------------------------------------------------------- front matter variants


def test_title_fallback_order():
    assert parse("---\ntitle: 前言标题\n---\n\n# 一级标题\n\n正文\n").title == "前言标题"
    assert parse("---\ntags: [a]\n---\n\n## 二级\n\n# 一级标题\n\n正文\n").title == "一级标题"
    assert parse("一级标题\n====\n\n正文\n").title == "一级标题"  # setext
    assert parse("#不是标题\n\n正文\n", rel="x/文件名.md").title == "文件名"
    assert parse("---\ntitle: ''\n---\n\n正文\n", rel="空标题.md").title == "空标题"


def test_description_and_summary():
    assert parse("---\ndescription: 描述文字\n---\n\n正文\n").description == "描述文字"
    assert parse("---\nsummary: 摘要文字\n---\n\n正文\n").description == "摘要文字"
    assert parse("正文\n").description == ""


def test_keywords_key_string_and_list():
    assert parse("---\nkeywords: 向量数据库, RAG，检索\n---\n\n正文\n").keywords == ["向量数据库", "RAG", "检索"]
    assert parse("---\nkeywords: [Redis, 缓存, redis]\n---\n\n正文\n").keywords == ["Redis", "缓存"]


def test_keywords_from_seed_style_meta_and_head():
    a = parse(
        "---\nkeywords: A\nmeta:\n  - name: description\n    content: d\n  - name: keywords\n    content: B,C\n"
        "head:\n  - - meta\n    - name: keywords\n      content: D, a\n  - - link\n    - rel: x\n---\n\n正文\n"
    )
    assert a.keywords == ["A", "B", "C", "D"]
    assert a.tags == []


def test_tag_and_category_singular_keys():
    a = parse("---\ntag: Redis\ncategory: 数据库\n---\n\n正文\n")
    assert a.tags == ["Redis"]
    assert a.categories == ["数据库"]
    a = parse("---\ntags: [Go, null, '', Kitex]\ncategories: 后端\n---\n\n正文\n")
    assert a.tags == ["Go", "Kitex"]
    assert a.categories == ["后端"]


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2021/03/04", dt.datetime(2021, 3, 4)),
        ("'2023-05-06 10:00:00'", dt.datetime(2023, 5, 6, 10, 0)),
        ("2020-01-02", dt.datetime(2020, 1, 2)),
        ("2024-02-24 12:10:08", dt.datetime(2024, 2, 24, 12, 10, 8)),
        ("2024-02-24T12:10:08+08:00", dt.datetime(2024, 2, 24, 12, 10, 8)),
    ],
)
def test_date_forms(value, expected):
    assert parse(f"---\ndate: {value}\n---\n\n正文\n").date == expected


def test_absent_or_unreadable_date_is_no_date_not_the_file_time(tmp_path):
    p = tmp_path / "a.md"
    p.write_text("---\ntitle: 无日期\nlastmod: ''\n---\n\n正文\n", encoding="utf-8")
    when = dt.datetime(2022, 6, 1, 8, 30, 0).timestamp()
    os.utime(p, (when, when))
    a = read_article(p, tmp_path)
    assert a.date is None
    assert a.warnings == []
    p.write_text("---\ntitle: 坏日期\ndate: 不是日期\n---\n\n正文\n", encoding="utf-8")
    os.utime(p, (when, when))
    a = read_article(p, tmp_path)
    assert a.date is None
    assert any("date" in w for w in a.warnings)


def test_updated_and_lastmod_date_an_article_without_date():
    assert parse("---\nupdated: 2023-04-05 06:07:08\n---\n\n正文\n").date == dt.datetime(2023, 4, 5, 6, 7, 8)
    assert parse("---\nlastmod: 2022-01-02\n---\n\n正文\n").date == dt.datetime(2022, 1, 2)
    # the date it was written wins over the last update
    both = parse("---\ndate: 2020-01-01\nlastmod: 2022-01-02\n---\n\n正文\n")
    assert both.date == dt.datetime(2020, 1, 1)
    # an unreadable date falls through to lastmod, with a warning
    bad = parse("---\ndate: 不是日期\nlastmod: 2022-01-02\n---\n\n正文\n")
    assert bad.date == dt.datetime(2022, 1, 2) and any("date" in w for w in bad.warnings)
    # the indexer's fallback (git) only when the front matter has none
    git = dt.datetime(2021, 5, 6, 7, 8, 9)
    assert parse("正文\n", fallback_date=git).date == git
    assert parse("---\nlastmod: 2022-01-02\n---\n正文\n", fallback_date=git).date == dt.datetime(2022, 1, 2)


def test_permalink_slug_and_derived():
    assert parse("---\npermalink: /p/x.html\nslug: s\n---\n\n正文\n").permalink == "/p/x.html"
    assert parse("---\nslug: my-post\n---\n\n正文\n", rel="docs/a.md").permalink == "/docs/my-post/"
    assert parse("正文\n", rel="docs/foo/bar.md").permalink == "/docs/foo/bar.html"
    assert parse("正文\n", rel="docs/foo/README.md").permalink == "/docs/foo/"
    assert parse("正文\n", rel="index.md").permalink == "/"


def test_front_matter_that_is_not_a_mapping_is_ignored():
    a = parse("---\n- a\n- b\n---\n\n# 列表元数据\n\n正文内容\n")
    assert a.title == "列表元数据"
    assert "正文内容" in a.body


def test_undecodable_non_text_raises():
    with pytest.raises(ArticleError):
        parse_article(bytes(range(128, 256)) * 64, "x.md")


def test_read_article_missing_file_raises_article_error(tmp_path):
    with pytest.raises(ArticleError):
        read_article(tmp_path / "gone.md", tmp_path)


# ------------------------------------------------------------- body text


def test_body_plain_text_rules():
    a = parse(
        "# 标题\n\n"
        "见[官方文档](https://docs.example.com/a?b=1)和 https://bare.example.org/x 以及 www.example.net 。\n\n"
        "![架构图](images/arch.png)\n\n"
        "<!-- more -->\n\n"
        "段落里有 <span style=\"color:red\">红色文字</span> 和 <br/> 换行。\n\n"
        "```python\nprint('只在代码里')\n```\n\n"
        "最后一段。\n"
    )
    body = a.body
    for needle in ("官方文档", "架构图", "红色文字", "最后一段"):
        assert needle in body, needle
    for bad in ("http", "example.com", "example.org", "www.", "arch.png", "<span", "<br", "<!--", "more", "只在代码里"):
        assert bad not in body, bad
    assert "只在代码里" in a.code


def test_inline_code_text_is_kept_verbatim():
    # inline code and escaped text are prose, not HTML: nothing inside may be dropped
    a = parse("Java 中 `Map<String, Integer>` 是泛型，`List<String>` 存字符串。\n")
    assert "Map<String, Integer>" in a.body
    assert "List<String>" in a.body


def test_headings_anchors_duplicates_and_custom_ids():
    a = parse(
        "# 指南\n\n引言\n\n## 示例\n\n一\n\n## 示例\n\n二\n\n## 示例\n\n三\n\n"
        "## 安装步骤 {#install}\n\n装\n\n### Getting Started!\n\n开始\n"
    )
    secs = [(s.heading, s.anchor, s.level, s.text) for s in a.sections]
    assert secs == [
        ("指南", "指南", 1, "引言"),
        ("示例", "示例", 2, "一"),
        ("示例", "示例-2", 2, "二"),  # VuePress 1 (the default style) numbers from 2
        ("示例", "示例-3", 2, "三"),
        # VuePress 1 has no {#id} syntax: the vdoing fixture's build slugs it with the text
        ("安装步骤", "安装步骤-install", 2, "装"),
        ("Getting Started!", "getting-started", 3, "开始"),
    ]
    assert a.headings.splitlines() == ["指南", "示例", "示例", "示例", "安装步骤", "Getting Started!"]
    vitepress = parse("## 安装步骤 {#install}\n\n装\n", anchors="vitepress")
    assert [(s.heading, s.anchor) for s in vitepress.sections] == [("安装步骤", "install")]


def test_text_before_first_heading_is_a_section_without_heading():
    a = parse("前言部分。\n\n## 第一节\n\n内容。\n")
    assert a.sections[0].heading == "" and a.sections[0].text == "前言部分。"
    assert a.sections[1].heading == "第一节"


def test_hash_and_size_and_mtime():
    raw = "# 标题\n\n正文\n".encode()
    a = parse_article(raw, "a.md", mtime_ns=123_000_000_000)
    assert a.content_hash == hashlib.sha256(raw).hexdigest()
    assert a.size == len(raw)
    assert a.mtime_ns == 123_000_000_000


# ------------------------------------------ stray NUL bytes: dropped with a warning, not skipped

REAL = CORPUS / "karminski__one-small-step" / "20250123-what-is-LLM-distill" / "what-is-LLM-distill.md"


def _with_nuls(raw: bytes, count: int) -> bytes:
    """``raw`` with ``count`` NUL bytes put between lines, spread over the file."""
    lines = raw.split(b"\n")
    step = max(1, len(lines) // (count + 1))
    for k in range(count, 0, -1):
        lines.insert(k * step, b"\x00")
    return b"\n".join(lines).replace(b"\n\x00\n", b"\x00\n")


def test_a_few_stray_nul_bytes_are_dropped_with_a_warning():
    raw = REAL.read_bytes()
    dirty = _with_nuls(raw, 3)
    assert dirty.count(b"\x00") == 3 and len(dirty) == len(raw) + 3
    clean = parse_article(raw, "a.md")
    a = parse_article(dirty, "a.md")
    assert a.title == clean.title
    assert a.body == clean.body and "\x00" not in a.body
    assert [s.heading for s in a.sections] == [s.heading for s in clean.sections]
    assert a.warnings == ["3 stray NUL bytes dropped"]


def test_nul_bytes_in_non_utf8_or_in_numbers_mean_binary():
    text = REAL.read_text(encoding="utf-8")
    gbk_with_nul = _with_nuls(text.encode("gb18030"), 2)
    with pytest.raises(ArticleError, match="binary"):
        parse_article(gbk_with_nul, "a.md")
    utf16 = text.encode("utf-16")  # every other byte a NUL
    with pytest.raises(ArticleError, match="binary"):
        parse_article(utf16, "a.md")
    png = (CORPUS.parent / "docs" / "screenshot-home.png").read_bytes()
    with pytest.raises(ArticleError, match="binary"):
        parse_article(png, "a.md")
    many = _with_nuls(REAL.read_bytes(), 40)  # valid UTF-8 otherwise, but far more than stray
    with pytest.raises(ArticleError, match="binary"):
        parse_article(many, "a.md")


# An overview (issue 20, point 5): a page that is mostly links to other pages names every
# topic it links to in passing. Counted by the markdown parser: link text in the text, not
# in headings, not in code.
TOPICS = ["向量数据库", "缓存穿透", "消息队列", "分布式锁", "慢查询", "垃圾回收",
          "线程池", "负载均衡", "服务发现", "链路追踪", "限流", "熔断"]


def test_a_page_of_links_is_an_overview_and_an_article_with_a_few_is_not():
    overview = parse("# 学习路线\n\n按主题阅读：\n\n"
                     + "".join(f"- [{t}入门与实践](/docs/{i}.md)\n" for i, t in enumerate(TOPICS)))
    assert overview.links == 12 and overview.overview
    article = parse("# 向量数据库\n\n## 原理\n\n" + "向量数据库用近似最近邻索引检索向量。" * 20 + "\n\n"
                    + "".join(f"- 参见 [{t}](/docs/{i}.md)\n" for i, t in enumerate(TOPICS)))
    assert article.links == 12 and not article.overview  # its links are a small share of its text
    few = parse("# 入门\n\n" + "".join(f"[{t}](/{i}.md) " for i, t in enumerate(TOPICS[:5])))
    assert few.links == 5 and not few.overview  # five links are a paragraph, not a table of contents
    # links in headings and in code are not the text's links
    headed = parse("".join(f"## [{t}](/docs/{i}.md)\n\n正文很短。\n\n" for i, t in enumerate(TOPICS)))
    assert headed.links == 0 and not headed.overview
    code = parse("```\n" + "".join(f"[{t}](/docs/{i}.md)\n" for i, t in enumerate(TOPICS)) + "```\n")
    assert code.links == 0 and not code.overview
