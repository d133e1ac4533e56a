"""The built-in starter glossary and how a site's synonyms.txt lies over it."""

from __future__ import annotations

import pytest

from indexer.analysis import Analyzer
from search import glossary
from search.synonyms import SynonymFile, Synonyms, parse_groups


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer().load()


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
    assert syn.table[("显存",)] == ["视频内存"]  # replaced, not merged
    assert ("显存",) not in syn.builtin
    assert syn.table[("k8s",)] == ["Kubernetes"] and ("k8s",) in syn.builtin
    assert syn.table[("向量",)] == ["矢量"]  # the site's own lines add to it
    assert syn.table[("vram",)] == ["显存", "GPU memory"]  # a glossary term the site did not name

    [unit] = syn.expand(analyzer.query_units("k8s"))
    assert unit.alts == ["Kubernetes"] and unit.builtin_alts == {"Kubernetes"}
    [unit] = syn.expand(analyzer.query_units("显存"))
    assert "视频内存" in unit.alts and "VRAM" not in unit.alts and not unit.builtin_alts
    assert not syn.site_only().expand(analyzer.query_units("k8s"))[0].alts


def test_glossary_terms_of_several_words_only_when_asked(analyzer):
    syn = Synonyms().over(Synonyms.from_text("负载均衡, load balancing\nk8s, Kubernetes\n", analyzer))
    words = syn.site_only(phrases=True)
    assert [u.text for u in words.expand(analyzer.query_units("负载均衡"))] == ["负载", "均衡"]
    assert words.expand(analyzer.query_units("k8s"))[0].builtin_alts == {"Kubernetes"}
    [phrase] = syn.expand(analyzer.query_units("负载均衡"))
    assert phrase.parts == ["负载", "均衡"] and phrase.builtin_alts == {"load balancing"}


def test_synonym_file_without_a_file_is_the_glossary(analyzer, tmp_path):
    syn = SynonymFile(tmp_path / "missing.txt", "k8s, Kubernetes\n").get(analyzer)
    assert syn.table[("k8s",)] == ["Kubernetes"]
    assert SynonymFile(None, "").get(analyzer).table == {}
