"""The built-in starter glossary and how a site's synonyms.txt lies over it."""

from __future__ import annotations

import pytest

from indexer.analysis import Analyzer
from search import glossary
from search.synonyms import SynonymFile, Synonyms, parse_groups
from search.units import analyse


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer().load()


def texts(alts) -> list[str]:
    """The terms of alternatives, as written."""
    return [a.text for a in alts]


def from_glossary(alts) -> set[str]:
    """Those that come from the glossary."""
    return {a.text for a in alts if a.builtin}


def test_glossary_ships_groups_of_the_field():
    groups = parse_groups(glossary.builtin_text())
    assert len(groups) > 300
    flat = {t.lower() for g in groups for t in g}
    for term in ("k8s", "kubernetes", "typescript", "postgresql", "networkpolicy", "量化", "quantization",
                 "换源", "镜像源", "蒸馏", "distillation", "向量", "embedding"):
        assert term in flat, term
    assert all(len(g) >= 2 for g in groups)


def test_site_line_overrides_the_glossary_line_and_others_stay(analyzer):
    builtin = "k8s, Kubernetes\n显存, VRAM, GPU memory\n"
    syn = Synonyms.from_text("显存, 视频内存\n向量, 矢量\n", analyzer).over(Synonyms.from_text(builtin, analyzer))
    assert texts(syn.table[("显存",)]) == ["视频内存"]  # replaced, not merged
    assert ("显存",) not in syn.builtin and not from_glossary(syn.table[("显存",)])
    assert texts(syn.table[("k8s",)]) == ["Kubernetes"] and ("k8s",) in syn.builtin
    assert texts(syn.table[("向量",)]) == ["矢量"]  # the site's own lines add to it
    assert texts(syn.table[("vram",)]) == ["显存", "GPU memory"]  # a glossary term the site did not name

    [unit] = syn.expand(analyse(analyzer, "k8s"))
    assert texts(unit.alts) == ["Kubernetes"] and from_glossary(unit.alts) == {"Kubernetes"}
    # analysed when the file was loaded: folded for the snippets, cut as the index cuts it
    assert unit.alts[0].folded == "kubernetes" and [u.text for u in unit.alts[0].units] == ["kubernetes"]
    [unit] = syn.expand(analyse(analyzer, "显存"))
    assert "视频内存" in texts(unit.alts) and "VRAM" not in texts(unit.alts) and not from_glossary(unit.alts)
    assert not syn.site_only().expand(analyse(analyzer, "k8s"))[0].alts


def test_glossary_terms_of_several_words_only_when_asked(analyzer):
    syn = Synonyms().over(Synonyms.from_text("负载均衡, load balancing\nk8s, Kubernetes\n", analyzer))
    words = syn.site_only(phrases=True)
    assert [u.text for u in words.expand(analyse(analyzer, "负载均衡"))] == ["负载", "均衡"]
    assert from_glossary(words.expand(analyse(analyzer, "k8s"))[0].alts) == {"Kubernetes"}
    typed = analyse(analyzer, "负载均衡")
    [phrase] = syn.expand(typed)
    assert phrase.parts == ("负载", "均衡") and from_glossary(phrase.alts) == {"load balancing"}
    assert phrase.words == typed  # the typed units it joins, not cut again


def test_synonym_file_without_a_file_is_the_glossary(analyzer, tmp_path):
    syn = SynonymFile(tmp_path / "missing.txt", "k8s, Kubernetes\n").get(analyzer)
    assert texts(syn.table[("k8s",)]) == ["Kubernetes"]
    assert SynonymFile(None, "").get(analyzer).table == {}
