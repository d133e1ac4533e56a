"""Stored section texts: folded for matching, restorable to the original."""

from __future__ import annotations

import pytest

from indexer.analysis import Analyzer
from indexer.stored import encode as encode_with
from indexer.stored import folded_text, original_text, sections_as_written
from search.snippets import make_snippet

fold = Analyzer().fold


def encode(heading: str, anchor: str, text: str):
    return encode_with(heading, anchor, text, fold(text))

TEXTS = [
    "",
    "ChatGPT是OpenAI开发的大型语言模型，GPT-4拥有超过5000亿参数。",  # upper-case runs
    "ＧＰＴ－４ 與 ＬｏＲＡ 微調：分散式交易的隔離級別",  # full-width and traditional
    "纯中文的一段话，没有需要折叠的字符。",  # nothing to fold
    "ﬁle ligature changes the length: Ⅻ ㎏",  # folding changes the length
    "emoji 🚀 and kana カタカナ and 한국어 MIXED Case",
]


@pytest.mark.parametrize("text", TEXTS)
def test_encode_restores_the_original_and_matches_the_fold(text):
    sec = encode("标题", "biao-ti", text)
    assert original_text(sec) == text
    assert folded_text(sec, fold) == fold(text)
    assert list(sections_as_written([sec])) == [("标题", "biao-ti", text)]


def test_a_length_changing_fold_is_stored_as_written():
    sec = encode("", "", "ﬁne")
    assert sec[2] == "ﬁne" and sec[3] is None


def test_runs_are_only_what_folding_changed():
    _h, _a, text, runs = encode("", "", "用GPT-4和LoRA")
    assert text == "用gpt-4和lora"
    assert runs == ((1, "GPT"), (7, "L"), (9, "RA"))


def test_snippet_marks_the_original_characters_of_a_folded_section():
    sections = [encode("", "", "前言。"), encode("参数", "can-shu", "ＧＰＴ－４擁有超過5000億參數，OpenAI沒有公開。")]
    snip = make_snippet(sections, [["gpt-4"], ["参数"]], fold)
    assert snip.section == "参数"
    assert "<mark>ＧＰＴ－４</mark>" in snip.html and "<mark>參數</mark>" in snip.html
