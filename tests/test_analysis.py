"""Chinese analysis: folding, word tokens (positions and offsets), bigrams, query units.

Sentences are copied from the development corpus (JavaGuide, llm-action, ms-swift,
d2l-zh, the seed article …) so the tests do not need ../shared.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.analysis import Analyzer, Role, bigrams_of

COMPOUND, LATIN, MAIN, PART, SUB = Role.COMPOUND, Role.LATIN, Role.MAIN, Role.PART, Role.SUB

#: The stock dictionary (no user dictionary), with the default segmenter.
ANALYZER = Analyzer()
bigram_tokens = ANALYZER.bigram_tokens
fold = ANALYZER.fold
fold_query = ANALYZER.fold_query
query_units = ANALYZER.query_units
word_tokens = ANALYZER.word_tokens
word_tokens_roles = ANALYZER.word_tokens_roles
region_table = lambda: ANALYZER.folding.region_table


SENTENCES = [
    # seed article
    "GPT-4：于2023年2月发布，是目前最先进的自然语言生成模型，拥有超过5000亿参数。",
    "GPT-3.5：于2022年11月发布，是GPT-3的改进版本，模型参数规模达到了2000亿。",
    "GPT：2018年由OpenAI提出，参数量1.17亿，预训练数据量约5GB，基于Transformer模型充分利用海量无标注文本进行预训练，",
    "ChatGPT（全名：Chat Generative Pre-trained Transformer），是OpenAI研发的一款聊天机器人程序，于2022年11月30日发布。",
    # shared corpus
    "NCCL 实现成 CUDA C++ kernels，包含3种 primitive operations： Copy，Reduce，ReduceAndCopy。",
    "我们的 TC-FPx 内核可以单独编译成 .so 动态可链接库，并且我们提供了一组 C++ API 来调用内核。",
    "如果你本机没有安装 Claude Code 的话，先运行下面这行命令安装（Node.js 18+）：",
    "单条数据支持4096 tokens。Baichuan2-7B-Chat 是在大约 1.2 万亿 tokens 上训练的 70 亿参数模型。",
    "阮一峰的ES6教程，以及 TCP/IP 网络协议。",
    "CV 里面 不同样本的同一channel有关联性， 同一样本的不同channel是有差异性的（没有关联性）",
    "encoding = tiktoken.get_encoding(\"cl100k_base\")  # 这是 GPT-3.5-turbo 所使用的编码器",
    "Qwen2-VL 和 Qwen2.5-VL-7B-Instruct 都是多模态模型，.NET 与 ASP.NET Core 是另一回事。",
    # width, script and compatibility folding
    "ＧＰＴ－４ 的参数量没有公开，ＡＰＩ 调用按 ｔｏｋｅｎ 计费。",
    "記憶體洩漏會導致執行緒阻塞，分散式系統的參數需要調整。",
    "ﬁle 系统与 ﬃ 连字，以及 ㈱公司 与 ㍿、Ⅻ 章和 ① 号。",
    "部署成功🚀，模型跑起来了😀！",
    "日本語のカタカナとひらがな混じりの文、そして한국어 텍스트도 있다。",
    "İstanbul 的 ǅ 字母和 Straße。",
    "",
    "   \n\t  ",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 超长哈希之后的中文",
]


def _assert_offsets(text: str, tokens) -> None:
    for tok, _pos, a, b in tokens:
        assert 0 <= a < b <= len(text), (tok, a, b)
        seg = text[a:b]
        folded = fold(seg)[0]
        if all(len(fold(c)[0]) == 1 for c in seg):
            assert folded == tok, (text, tok, a, b, seg)
        else:
            # a character that folds to several (㈱ → (株)): the token lies inside
            # the fold of the minimal original span that covers it
            assert tok in folded, (text, tok, seg)
            assert tok not in fold(text[a + 1:b])[0] and tok not in fold(text[a:b - 1])[0], (text, tok, seg)


def _assert_positions(roles) -> None:
    """Main words take 0, 1, 2, …; sub-words share their word's position; a
    compound shares its first part's position and its parts count up."""
    expected = 0  # next free position
    word_pos = None
    for tok, pos, _a, _b, role in roles:
        if role in (MAIN, LATIN, COMPOUND):
            assert pos == expected, (tok, pos, expected, roles)
            word_pos = pos
            expected = pos + 1 if role != COMPOUND else pos
            part_next = pos
        elif role == SUB:
            assert pos == word_pos, (tok, pos, word_pos, roles)
        elif role == PART:
            assert pos == part_next, (tok, pos, part_next, roles)
            part_next += 1
            expected = part_next
        else:  # pragma: no cover
            raise AssertionError(role)
    positions = sorted({r[1] for r in roles})
    assert positions == list(range(len(positions)))


@pytest.mark.parametrize("text", SENTENCES)
def test_offsets_slice_the_original_text(text):
    _assert_offsets(text, word_tokens(text))
    _assert_offsets(text, bigram_tokens(text))


@pytest.mark.parametrize("text", SENTENCES)
def test_positions_are_sequential(text):
    _assert_positions(word_tokens_roles(text))


def test_start_pos_shifts_positions():
    base = word_tokens("GPT-4 拥有超过5000亿参数")
    shifted = word_tokens("GPT-4 拥有超过5000亿参数", start_pos=10)
    assert [(t, p + 10, a, b) for t, p, a, b in base] == shifted


def test_main_word_positions_simple():
    toks = word_tokens_roles("我们提供了一组接口")
    mains = [(t, p) for t, p, _a, _b, r in toks if r == MAIN]
    assert [p for _t, p in mains] == list(range(len(mains)))
    assert "".join(t for t, _p in mains) == "我们提供了一组接口"


def test_sub_words_share_position():
    toks = word_tokens_roles("中华人民共和国成立")
    assert toks[0][:2] == ("中华人民共和国", 0)
    subs = {t: (p, a, b) for t, p, a, b, r in toks if r == SUB}
    assert subs["人民"] == (0, 2, 4)
    assert subs["共和国"] == (0, 4, 7)
    assert ("成立", 1) == next((t, p) for t, p, *_ in toks if t == "成立")


def _words(text: str) -> list[str]:
    return [t for t, *_ in word_tokens(text)]


@pytest.mark.parametrize(
    "text, whole, parts",
    [
        ("GPT-4", "gpt-4", ["gpt", "4"]),
        ("GPT-3.5", "gpt-3.5", ["gpt", "3", "5"]),
        ("Qwen2-VL", "qwen2-vl", ["qwen2", "vl"]),
        ("C++", "c++", ["c"]),
        ("Node.js", "node.js", ["node", "js"]),
        (".NET", ".net", ["net"]),
        ("TCP/IP", "tcp/ip", ["tcp", "ip"]),
        ("5000亿", "5000亿", ["5000", "亿"]),
        ("1.17亿", "1.17亿", ["1.17", "亿"]),
        ("Baichuan2-7B-Chat", "baichuan2-7b-chat", ["baichuan2", "7b", "chat"]),
    ],
)
def test_latin_compounds_whole_and_parts(text, whole, parts):
    roles = word_tokens_roles(f"使用 {text} 开发")
    comp = [r for r in roles if r[4] == COMPOUND]
    assert [c[0] for c in comp] == [whole]
    got_parts = [r[0] for r in roles if r[4] == PART]
    assert got_parts == parts
    # the compound spans exactly the original text
    _t, pos, a, b, _r = comp[0]
    assert f"使用 {text} 开发"[a:b] == text
    part_pos = [r[1] for r in roles if r[4] == PART]
    assert part_pos == list(range(pos, pos + len(parts)))


def test_plain_latin_words_and_es6():
    roles = word_tokens_roles("ES6教程 和 Python3 入门")
    latin = [(t, r) for t, _p, _a, _b, r in roles if r == LATIN]
    assert latin == [("es6", LATIN), ("python3", LATIN)]
    assert "教程" in _words("ES6教程")


def test_gpt4_and_gpt3_share_only_the_part_gpt():
    a, b = set(_words("GPT-4 的参数")), set(_words("GPT-3 的参数"))
    assert "gpt-4" in a and "gpt-4" not in b
    assert "gpt-3" in b and "gpt-3" not in a
    assert "4" not in b


def test_lower_casing():
    assert _words("OpenAI ChatGPT LoRA") == ["openai", "chatgpt", "lora"]


def test_nfkc_full_width_equals_ascii():
    assert word_tokens("ＧＰＴ－４") == word_tokens("GPT-4")
    assert fold("ＧＰＴ－４") == ("gpt-4", None)
    assert fold_query("Ｑｗｅｎ２－ＶＬ") == "qwen2-vl"


def test_ligatures_and_enclosed_characters():
    assert _words("ﬁle") == ["file"]
    folded, offsets = fold("㈱公司")
    assert folded == "(株)公司"
    assert offsets == [0, 0, 0, 1, 2, 3]
    toks = word_tokens("㈱公司")
    assert ("株", 0, 0, 1) in toks
    assert ("公司", 1, 1, 3) in toks


def test_emoji_kana_korean_are_not_words_but_do_not_shift_offsets():
    text = "部署成功🚀，模型跑起来了😀！"
    toks = word_tokens(text)
    assert {t for t, *_ in toks} >= {"部署", "成功", "模型"}
    _assert_offsets(text, toks)
    text = "カタカナ GPT-4 한국어 参数"
    toks = word_tokens(text)
    assert ("gpt-4", 0, 5, 10) in toks
    assert text[toks[-1][2]:toks[-1][3]] == "参数"


def test_traditional_folds_to_simplified_without_changing_length():
    trad = "記憶體洩漏會導致執行緒阻塞，分散式系統的參數需要調整。"
    folded, offsets = fold(trad)
    assert offsets is None
    assert len(folded) == len(trad)
    assert folded == "记忆体泄漏会导致执行绪阻塞,分散式系统的参数需要调整。"
    assert fold("參數")[0] == "参数"
    assert _words("參數") == ["参数"]
    # and the offsets of tokens still point at the traditional characters
    toks = word_tokens(trad)
    _assert_offsets(trad, toks)
    assert any(t == "参数" and trad[a:b] == "參數" for t, _p, a, b in toks)


def test_simplified_text_is_not_rewritten():
    # characters that simplified Chinese uses must survive the traditional fold
    for ch in "着著乾于干后里面发只台":
        assert fold(ch)[0] == ch, ch


def test_region_vocabulary_is_query_side_only():
    assert region_table()["记忆体"] == "内存"
    assert region_table()["执行绪"] == "线程"
    # the index keeps what was written (length preserving fold only)
    assert "内存" not in _words("記憶體洩漏")


def test_bigram_tokens():
    toks = bigram_tokens("中华人民 共和国")
    assert toks == [
        ("中华", 0, 0, 2), ("华人", 1, 1, 3), ("人民", 2, 2, 4),
        # a gap so a phrase never bridges two runs
        ("共和", 4, 5, 7), ("和国", 5, 6, 8),
    ]
    assert bigram_tokens("单 字 GPT-4") == []
    assert bigram_tokens("參數") == [("参数", 0, 0, 2)]
    assert bigrams_of("人民共和国") == ["人民", "民共", "共和", "和国"]


def test_bigrams_contain_a_word_inside_a_longer_compound():
    grams = [t for t, *_ in bigram_tokens("中华人民共和国成立")]
    query = bigrams_of("人民共和国")
    assert any(grams[i:i + len(query)] == query for i in range(len(grams)))


def test_schema_text_fields_take_tokens_not_text():
    """The schema holds no analysis: its text fields file an Analyzer's tokens
    (grouped per word, positions kept) and refuse raw text."""
    from indexer.schema import build_schema

    schema = build_schema()
    text = "GPT-4 拥有超过5000亿参数，GPT-4"
    toks = word_tokens(text)
    items = {t.decode(): (freq, schema["body"].format.decode_positions(v))
             for t, freq, _w, v in schema["body"].index(toks)}
    assert items["gpt-4"] == (2, [p for w, p, _a, _b in toks if w == "gpt-4"])
    assert set(items) == {w for w, *_ in toks}
    with pytest.raises(TypeError, match="Analyzer"):
        list(schema["body"].index(text))
    with pytest.raises(TypeError, match="indexed_words"):
        list(schema["body"].analyzer(text))


# ----------------------------------------------------------------- query units


def test_query_units_compound():
    (u,) = query_units("GPT-4")
    assert (u.text, u.kind, u.parts) == ("gpt-4", "compound", ["gpt", "4"])
    (u,) = query_units("ＧＰＴ－４")
    assert u.text == "gpt-4"
    (u,) = query_units("Qwen2-VL")
    assert (u.kind, u.parts) == ("compound", ["qwen2", "vl"])


def test_query_units_latin_letter_digit_split():
    (u,) = query_units("gpt4")
    assert (u.text, u.kind, u.parts) == ("gpt4", "latin", ["gpt", "4"])
    units = query_units("GPT 4")
    assert [(u.text, u.kind) for u in units] == [("gpt", "latin"), ("4", "latin")]
    (u,) = query_units("openai")
    assert u.parts == []


def test_query_units_han_sub_word_cover():
    units = query_units("自然语言处理")
    assert "".join(u.text for u in units) == "自然语言处理"
    assert all(u.kind == "han" for u in units)
    covers = {u.text: u.parts for u in units}
    # the first word has a cover by dictionary sub-words, so "自然语言的处理" style
    # texts are found through its parts
    assert any(len(p) > 1 for p in covers.values())
    for text, parts in covers.items():
        if parts:
            assert "".join(parts) == text
    (u,) = query_units("中华人民共和国")
    assert u.parts == ["中华", "人民", "共和国"]
    (u,) = query_units("参数")
    assert u.parts == []


def test_query_units_fold_region_script():
    (u,) = query_units("記憶體")
    assert u.text == "记忆体"  # its region words are the query side's (tests/test_regions.py)


def test_query_units_mixed():
    units = query_units("GPT-4 参数")
    assert [(u.text, u.kind) for u in units] == [("gpt-4", "compound"), ("参数", "han")]


# ------------------------------------------------------------------ properties


TEXT_ALPHABET = st.sampled_from(
    list("GPT-4.5+#/_ 参數記憶體中华人民共和国自然语言处理㈱ﬁ①İǅ😀カ한\u3000ＡＢＣ１２亿万.\n\t-ßé")
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=40), st.lists(TEXT_ALPHABET, max_size=40).map("".join)))
def test_properties_offsets_and_positions(text):
    roles = word_tokens_roles(text)
    _assert_positions(roles)
    _assert_offsets(text, [(t, p, a, b) for t, p, a, b, _r in roles])
    _assert_offsets(text, bigram_tokens(text))
    for u in query_units(text):
        assert u.text


# ------------------------------------------------------------- the index path


def _grouped(tokens) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for t in tokens:
        out.setdefault(t[0], []).append(t[1])
    return out


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TEXT_ALPHABET, max_size=60).map("".join))
def test_indexed_bigrams_are_the_bigram_tokens_grouped(text):
    folded = fold(text)[0]
    got = ANALYZER.indexed_bigrams(folded)
    grouped = {w: got.positions[got.bounds[k]:got.bounds[k + 1]].tolist() for k, w in enumerate(got.terms)}
    assert grouped == _grouped(bigram_tokens(folded))
    assert list(got.terms) == sorted(got.terms, key=lambda w: [ord(c) for c in w])


def test_indexed_bigrams_encode_like_compact_positions_also_past_65535():
    """A long article: positions (and gaps) past 16 bits take the wide encoding."""
    from indexer.schema import build_schema

    text = "参数" + "中" * 70_000 + "；参数与模型" + "文" * 3 + "模型参数"
    folded = fold(text)[0]
    field = build_schema()["bigram"]
    fmt = field.format
    got = {t.decode(): v for t, _n, _w, v in field.index(ANALYZER.indexed_bigrams(folded))}
    want = {w: fmt.encode(p) for w, p in _grouped(bigram_tokens(folded)).items()}
    assert got == want
    assert got["参数"][:1] == b"\x04"  # 参数 at 0 and past 70,000: a wide gap


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.sampled_from(SENTENCES), st.lists(TEXT_ALPHABET, max_size=60).map("".join)))
def test_indexed_words_are_the_word_tokens_grouped(text):
    """The index path (no offsets, no roles) files exactly the query path's tokens."""
    folded, _ = fold(text)
    assert ANALYZER.indexed_words(folded) == _grouped(word_tokens(folded))


def test_fold_offsets_when_an_expansion_and_a_vanishing_character_cancel_out():
    """ﬁ folds to two characters and a character that folds to nothing
    follows it: the folded text has the original's length, yet positions
    after them moved; the offsets must still map each folded character back
    to its original.  (A soft hyphen is one of the invisible characters
    that fold to nothing.)"""
    from indexer.folding import Folding

    folding = Folding()
    text = "ﬁ\u00ad参数"
    folded, offsets = folding.fold(text)
    assert folded == "fi参数" and len(folded) == len(text)
    assert offsets == [0, 0, 2, 3, 4]
