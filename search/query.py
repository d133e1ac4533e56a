"""Structured query → Whoosh query, with the ranking knobs in one place.

Each unit a person typed becomes one clause, matched in three ways whose
scores add up: the exact word or compound in any word field (weighted by
field), a looser form (a compound's parts as a phrase, a Han word's
sub-word cover all together) ranked lower, and for Han words a phrase of
character bigrams — the recall path for a word inside a longer compound.
All clauses are required; single Han characters and stop words only add
score.  A sloppy phrase over the whole query adds a proximity boost.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from whoosh import query as Q

from indexer.analysis import Analyzer, Role, UnitKind, bigrams_of

from . import regions
from .chars import all_han, has_han, is_han_char
from .snippets import Prepared
from .synonyms import Synonyms
from .syntax import ParsedQuery
from .units import Unit, analyse
from .versions import VersionQuery, VersionSpec, specs_of
from .weights import ArticleCounts, forms_df, words_df


class UnionOr(Q.Or):
    """``Or`` matched by a tree of union matchers.

    On a segment of fewer than 5,000 documents Whoosh's ``Or`` instead
    pre-reads every sub-matcher into 2,048-slot score arrays, per ``Or`` node
    and segment, clearing the array slot by slot in Python: with the dozens
    of ``Or`` nodes a query here builds, that set-up was the largest single
    cost in cProfile.  Scores are the same sums either way (the 240
    benchmark queries return identical pages).
    """

    matcher_type = Q.Or.DEFAULT_MATCHER


@dataclass(frozen=True)
class Ranking:
    """Ranking knobs, tuned with ``zhsearch eval`` on the judged queries."""

    #: The title weighs no more than a heading here: the passage evidence of
    #: the re-rank (``passage_heading``, ``passage_sentence``) already counts
    #: the title as a heading, and at 4 a title word was counted twice over,
    #: lifting articles that name a word in their title above those about it.
    field_weights: dict[str, float] = field(default_factory=lambda: {
        "title": 2.0, "keywords": 2.5, "headings": 2.0, "description": 1.5,
        "body": 1.2, "code": 0.25,
    })
    loose_weight: float = 0.3  # parts phrase / sub-word cover vs exact
    bigram_weight: float = 0.4
    compound_bonus: float = 1.5  # whole compound above its parts
    proximity_weight: float = 1.0
    proximity_slop: int = 8
    #: the typed words in the typed order, next to each other, in the title
    #: (a version then belongs to the name typed before it)
    title_phrase_weight: float = 1.0
    optional_weight: float = 0.3  # single Han characters and stop words
    #: a single character cut off a word (慢 of 慢查询) adds the score of the
    #: word written whole (a bigram phrase) instead of its own; 0: its own
    glue_weight: float = 0.6
    #: outside questions, a character cut off a word (慢 of 慢查询) is also required
    #: (as a word of its own or in the word written whole), adding a constant 1
    #: rather than its own score, so that a scattered 慢 counts for nothing more.
    #: Against optional: dev +0.0032, dev2 +0.0012. Scoring it where it stands
    #: measured higher on dev (+0.0086) but counts the scattered character;
    #: requiring only the word written whole lost 0.007 on dev and 0.004 on dev2
    glue_required: bool = True
    synonym_weight: float = 0.8  # what was typed ranks above its synonyms
    #: terms of the built-in glossary (search.glossary) rank below the site's
    #: own synonyms; 0 leaves them out
    glossary_weight: float = 0.6
    #: ... also for terms of several query words (负载均衡 cut 负载 / 均衡): measured
    #: worse on both collections (one merged unit loses the per-word passage evidence)
    glossary_phrases: bool = False
    #: articles that need a glossary term rank after those with the typed words
    #: (as for the site's synonyms); False: the glossary weight alone ranks them
    glossary_tier: bool = False
    #: glossary terms matched only as written (no sub-word cover, no bigrams)
    glossary_exact: bool = True
    #: in a question, its frame (区别, 太慢, 不够: QUESTION_FRAME_WORDS) only adds score
    question_frame: bool = True
    alternatives_max: bool = True  # a word and its synonyms score their best form, not the sum
    backfill_below: int = 10  # fewer strict hits than this: add "most words" hits
    #: versioned tokens (GPT-4, Qwen2, TiDB 8.5) match their version exactly
    #: (search.versions); siblings (Qwen2-VL) and other versions (GPT-4.1)
    #: score these fractions of an exact mention, and rank in lower tiers
    version_aware: bool = True
    version_weight: float = 2.0  # an exact mention, against a plain word's 1
    version_sibling_weight: float = 0.6
    version_other_weight: float = 0.25
    #: with this many required words or more, "most words" candidates are ranked
    #: together with the all-words ones (fewer: after them)
    pool_min_units: int = 3
    #: ... then scored times (IDF-weighted share of the words matched) ** this
    coverage_power: float = 0.0
    #: the best this many candidates are re-ranked by passage evidence (search.rerank):
    #: score × (1 + Σ weight × evidence); 0 turns it off
    rerank_depth: int = 20
    passage_sentence: float = 0.5  # the words meet in one sentence (or a heading)
    passage_paragraph: float = 1.0  # ... in one paragraph
    passage_section: float = 0.0  # ... in one section
    passage_heading: float = 0.25  # share of the words in the title or a heading
    passage_spread: float = 0.5  # share of the text in sections that mention them
    passage_path: float = 0.5  # share of the words in the article's path (folders, file name)
    index_page_weight: float = 0.5  # README.md / _index.md: a folder's list of articles
    #: ... and any page that is mostly a list of links (indexer.article.Article.overview):
    #: dev 0.8602 -> 0.8606, dev2 0.8724 -> 0.8725
    overview_pages: bool = True
    #: passage evidence leaves out sentences this many articles or more repeat
    #: (search.boilerplate: setup steps copied into every tutorial); 0: counts them
    repeated_docs: int = 5
    #: a question's best this many candidates are re-ordered by their passage
    #: vectors (search.semantic; needs the zhsearch[embeddings] extra); 0: never
    semantic_depth: int = 20
    #: ... by lexical score / the best one's + this × the min-max scaled closeness
    semantic_weight: float = 1.5
    #: with few articles having both of two words, one whose two words never meet in a
    #: section or heading ranks with the "most words" ones (search.ordering._scattered):
    #: dev = 0.8602, dev2 0.8719 -> 0.8724 (語音 合成 +0.021)
    scattered_partial: bool = True


DEFAULT_RANKING = Ranking()
#: Words beyond this many are dropped (with a note): each costs a matcher over
#: every posting list it touches, before the time limit can cut in.
MAX_QUERY_UNITS = 12

#: Words that make a query a question (怎么…, …吗): its content words are then
#: ranked by coverage with the articles that have them all (``BuiltQuery.question``).
QUESTION_WORDS = frozenset("""
如何 怎么 怎样 怎么样 怎么办 怎么做 咋 咋办 为什么 为何 为啥 什么 哪些 哪个 哪里 哪种 多少 是否 能否
能不能 有没有 是不是 会不会 要不要 可不可以 吗 呢 啥 到底 究竟 请问
""".split())

#: Function words of questions: they add nothing to what is asked for.
STOPWORDS = frozenset("""
的 了 吗 呢 吧 啊 呀 是 在 有 和 与 及 或 把 被 给 让 对 从 向 为 以 于 也 都 就 还 又 很 并 而 但
如何 怎么 怎样 怎么样 为什么 为何 什么 哪些 哪个 哪里 多少 是否 能否 可以 能 会 要 需要 一下 一个 一种
这么 那么 这个 那个 这些 那些 之后 之前 时候 我 你 他 她 它 我们 你们 他们 自己 请问 呢 啥
怎么办 怎么做 怎么样 咋办 为啥 能不能 有没有 是不是 会不会 要不要 可不可以 行不行 好不好 有啥 有什么
是什么 什么是 什么样 怎么回事 办法 到底 究竟 应该 想 想要 知道 想知道 哪种 哪款 多大 多久 几个 才能
the a an of to in on for and or is are was be how what why which who when where do does with by
""".split())


#: What a question asks *about* a topic rather than the topic: comparison
#: (X和Y有什么区别: the article comparing X and Y need not say 区别) and the
#: symptom of a how-to question (pip安装太慢怎么办, 显存不够怎么…: the article
#: with the fix names the tool, not the complaint).  In a question they only
#: add score, like its scaffolding; elsewhere they are words like any other.
QUESTION_FRAME_WORDS = frozenset("""
区别 差别 差异 不同 异同 对比 比较 联系 优缺点 优劣 好处 坏处 用处 用途 作用 意思 含义 原理
太慢 很慢 变慢 好慢 太卡 很卡 卡顿 不够 不够用 不足 不行 失败 报错 出错 太大 太小 太多 太少 太高 太低 太久
""".split())


def _word_fields(only: str | None, r: Ranking) -> dict[str, float]:
    w = r.field_weights
    if only == "title":
        return {"title": w["title"]}
    return {f: wt for f, wt in w.items() if wt > 0}  # a zero weight costs a matcher for nothing


def _term_any(text: str, fields: dict[str, float], boost: float = 1.0) -> Q.Query:
    return UnionOr([Q.Term(f, text, boost=wt * boost) for f, wt in fields.items()])


def _phrase_any(words: Sequence[str], fields: dict[str, float], boost: float = 1.0,
                slop: int = 1) -> Q.Query:
    words = list(words)
    subs = [Q.Phrase(f, words, slop=slop, boost=wt * boost)
            for f, wt in fields.items() if f != "code"]
    if "code" in fields:
        subs.append(Q.And([Q.Term("code", w) for w in words], boost=fields["code"] * boost))
    return UnionOr(subs)


def unit_query(unit: Unit, fields: dict[str, float], r: Ranking = DEFAULT_RANKING,
               spec: VersionSpec | None = None) -> Q.Query:
    """All the ways one unit may match, exact ways scoring highest.  ``spec``:
    the version the unit asks for (``search.versions``), if any."""
    if spec is not None and r.version_aware:
        q: Q.Query = version_query(spec, fields, r)
    else:
        q = _unit_forms(unit, fields, r)
    if not unit.alts:
        return q
    alts = [q]
    for alt in unit.alts:
        if alt.builtin and r.glossary_exact:
            few = {f: w for f, w in fields.items() if f in GLOSSARY_FIELDS} or fields
            sub = [_term_any(u.text, few) for u in alt.units]
        else:
            sub = [_unit_forms(u, fields, r) for u in alt.units]
        if sub:
            weight = r.glossary_weight if alt.builtin else r.synonym_weight
            alts.append((Q.And(sub) if len(sub) > 1 else sub[0]).with_boost(weight))
    if len(alts) == 1:
        return q
    # the best way it matches: an article that also has the synonym is not
    # twice as much about the word
    return Q.DisjunctionMax(alts) if r.alternatives_max else UnionOr(alts)


#: The fields a glossary term is looked for in with ``Ranking.glossary_exact``:
#: where an article says what it is about (each field is a matcher per term).
GLOSSARY_FIELDS = frozenset({"title", "headings", "body"})


def version_query(spec: VersionSpec, fields: dict[str, float], r: Ranking) -> VersionQuery:
    return VersionQuery(spec, fields, exact_boost=r.version_weight, sibling_weight=r.version_sibling_weight,
                        other_weight=r.version_other_weight, loose_weight=r.loose_weight)


def _phrase_unit_forms(unit: Unit, fields: dict[str, float], r: Ranking) -> Q.Query:
    """The words of a multi-word synonym term as typed, matched exactly as
    they would be without the synonym: each informative word required, a
    single character or a stop word only adding score (the query's proximity
    boost counts them written together).  So ``负载均衡`` (cut 负载 / 均衡)
    or ``大模型`` (大 / 模型) rank as before a glossary named them, and only
    their synonyms are new."""
    parts = unit.words  # the typed units it joins, as the clause was cut
    strong = [_unit_forms(p, fields, r) for p in parts if not _weak(p)]
    if not strong:  # only weak words (的 是): the phrase itself
        return _phrase_any(unit.parts, fields)
    main = Q.And(strong) if len(strong) > 1 else strong[0]
    weak = [_unit_forms(p, fields, r).with_boost(r.optional_weight) for p in parts if _weak(p)]
    if not weak or r.optional_weight <= 0:
        return main
    return Q.AndMaybe(main, UnionOr(weak) if len(weak) > 1 else weak[0])


def _unit_forms(unit: Unit, fields: dict[str, float], r: Ranking) -> Q.Query:
    if unit.kind == UnitKind.PHRASE:  # several words typed that are one synonym term
        return _phrase_unit_forms(unit, fields, r)
    if unit.kind == UnitKind.COMPOUND:
        alts = [_term_any(unit.text, fields, r.compound_bonus)]
        if unit.parts:
            alts.append(_phrase_any(unit.parts, fields, r.loose_weight))
            joined = "".join(unit.parts)
            if joined != unit.text:
                alts.append(_term_any(joined, fields, r.loose_weight))
        return UnionOr(alts)
    if unit.kind == UnitKind.LATIN:
        alts = [_term_any(unit.text, fields)]
        if unit.parts:
            alts.append(_phrase_any(unit.parts, fields, r.loose_weight))
        return UnionOr(alts) if len(alts) > 1 else alts[0]
    # Han word
    alts = [_term_any(unit.text, fields)]
    if unit.parts:
        alts.append(Q.And([_term_any(p, fields) for p in unit.parts], boost=r.loose_weight))
    if len(unit.text) >= 2 and len(fields) > 1 and r.bigram_weight > 0:  # the bigram field is not per-field
        grams = bigrams_of(unit.text)
        if grams:
            if len(grams) == 1:
                alts.append(Q.Term("bigram", grams[0], boost=r.bigram_weight))
            else:
                alts.append(Q.Phrase("bigram", grams, boost=r.bigram_weight))
    return UnionOr(alts) if len(alts) > 1 else alts[0]


def phrase_query(text: str, fields: dict[str, float], analyzer: Analyzer,
                 r: Ranking = DEFAULT_RANKING) -> Q.Query | None:
    """A quoted phrase: word sequence in word fields, or bigrams for Han text."""
    toks = analyzer.word_tokens_roles(text)
    words = [t.text for t in toks if t.role in (Role.MAIN, Role.PART, Role.LATIN)]
    if not words:
        return None
    if len(words) == 1:
        only = analyse(analyzer, text)
        return unit_query(regions.quoted(only[0], analyzer), fields, r) if only else None
    alts = [_phrase_any(words, fields, 1.0, slop=1)]
    folded = analyzer.fold_query(text)
    han = "".join(ch for ch in folded if not ch.isspace())
    grams = bigrams_of(han)
    if grams and all_han(han):
        alts.append(Q.Phrase("bigram", grams, boost=r.bigram_weight))
    return UnionOr(alts)


@dataclass
class BuiltQuery:
    query: Q.Query | None  # all units required
    relaxed: Q.Query | None  # any unit (fallback when nothing matches all)
    filter: Q.Query | None
    exclude: Q.Query | None
    highlight_terms: list[list[str]]  # per unit: alternatives, best first
    latin_words: list[str]  # for "did you mean"
    has_alts: bool = False  # some unit also matches synonyms / region words
    #: when ``has_alts``: the query of only what was typed (no synonyms, no
    #: region words); the engine ranks articles matching it first
    typed: Q.Query | None = None
    #: the required versioned units (``search.versions``): articles with every
    #: asked version exact rank first, then with siblings, then the rest
    versions: list[VersionQuery] = field(default_factory=list)
    #: a natural-language question (怎么…, …吗, …?): ranked by coverage even with two words
    question: bool = False
    #: the required clauses one by one (what "most words" counts), with the
    #: word each stands for (None: a group such as ``a OR b``), and the same
    #: clauses of the typed-words form (None when they do not line up, or
    #: when nothing but the typed words is asked)
    units: list[Q.Query] = field(default_factory=list)
    unit_texts: list[str | None] = field(default_factory=list)
    typed_units: list[Q.Query] | None = None
    #: how many of ``units`` are characters cut off a word (慢 of 慢查询):
    #: required, but not words of their own for the "most words" rules
    cut_off: int = 0
    #: for each entry of ``highlight_terms``: the word as typed (folded) that
    #: it comes from, so the marks of one typed word that jieba splits can be
    #: shown as one (``search.snippets.Prepared``); never used for ranking
    highlight_words: list[str] = field(default_factory=list)
    #: ``highlight_terms`` prepared for searching text, once per query: what
    #: passage evidence, snippets and titles look for
    prepared: Prepared | None = None
    #: for each required clause (``units``): how many articles have its word
    #: (``search.weights.words_df``); None for a group such as ``a OR b``
    unit_dfs: list[int | None] = field(default_factory=list)
    #: for each entry of ``highlight_terms``: how many articles have its
    #: terms (``search.weights.forms_df``), what passage evidence weighs it by
    term_dfs: list[int] = field(default_factory=list)
    #: the words typed, clause by clause (no field names, filters or
    #: exclusions): what a question's meaning is read from (``search.semantic``)
    text: str = ""

    @property
    def words(self) -> int:
        """How many words the required clauses stand for: "most words" ranks
        the articles with some of them after those with all of two words,
        with them from three words on (``Ranking.pool_min_units``)."""
        return len(self.units) - self.cut_off


def build(pq: ParsedQuery, analyzer: Analyzer, r: Ranking, synonyms: Synonyms | None,
          counts: ArticleCounts) -> BuiltQuery:
    """The query for ``pq``, and its typed-words-only form when they differ.
    Each clause is analysed once for both, by the index's ``analyzer``;
    ``counts`` (the index's document frequencies) read a region word as the
    corpus writes it (:func:`search.regions.resolve`) and say how
    informative each word is (``search.weights``)."""
    clause_units = _clause_units(pq, analyzer, counts)
    phrases = {id(c): phrase_query(c.text, _word_fields(c.field, r), analyzer, r)
               for g in pq.groups for c in g if c.phrase}
    # versions across clauses (in "TiDB 8.5" the number follows the name), by unit
    # text: synonyms and the typed-words form make new unit objects
    ordered = [u for g in pq.groups for c in g if not c.phrase for u in clause_units[id(c)]]
    specs = {u.text: sp for u, sp in zip(ordered, specs_of(ordered), strict=True) if sp is not None}
    built = _build(pq, analyzer, r, synonyms, True, _Analysed(clause_units, phrases, specs))
    if built.has_alts:
        typed = _build(pq, analyzer, r, None, False, _Analysed(clause_units, phrases, specs))
        built.typed = typed.query
        if typed.unit_texts == built.unit_texts:  # a multi-word synonym merges units
            built.typed_units = typed.units
    built.prepared = Prepared(built.highlight_terms, built.highlight_words)
    built.unit_dfs = [None if text is None else words_df(text, counts) for text in built.unit_texts]
    built.term_dfs = [forms_df(forms, counts) for forms in built.highlight_terms]
    built.text = " ".join(c.text for g in pq.groups for c in g)
    return built


def _clause_units(pq: ParsedQuery, analyzer: Analyzer, counts: ArticleCounts) -> dict[int, list[Unit]]:
    """Each word clause's units (by the clause's ``id``), region words read
    in the corpus's vocabulary: the one analysis of each clause."""
    clauses = [c for g in pq.groups for c in g if not c.phrase]
    clause_units = {id(c): regions.rejoin(analyse(analyzer, c.text), analyzer) for c in clauses}
    taiwanese = regions.taiwanese([u for units in clause_units.values() for u in units],
                                  any(regions.written_traditional(c.text, analyzer) for c in clauses), analyzer)
    return {k: regions.resolve(units, counts, analyzer, taiwanese) for k, units in clause_units.items()}


@dataclass
class _Analysed:
    """What :func:`build` analysed once for both forms of the query."""

    units: dict[int, list[Unit]]  # word clause (its id) → its units
    phrases: dict[int, Q.Query | None]  # quoted clause (its id) → its query
    specs: dict[str, VersionSpec]  # unit text → the version it asks for


@dataclass
class _Gathered:
    """What :func:`_build` gathers clause by clause."""

    question: bool
    #: the query has a word that is not weak (a single character, a stop word,
    #: a question's frame): then a chunk of weak words alone is not required
    content: bool = True
    required: list[Q.Query] = field(default_factory=list)
    unit_texts: list[str | None] = field(default_factory=list)  # for each required clause
    optional: list[Q.Query] = field(default_factory=list)
    highlight: list[list[str]] = field(default_factory=list)
    highlight_words: list[str] = field(default_factory=list)
    latin: list[str] = field(default_factory=list)
    versions: list[VersionQuery] = field(default_factory=list)
    prox_words: list[str] = field(default_factory=list)
    seq_words: list[str] = field(default_factory=list)  # prox_words with compounds as their parts
    has_alts: bool = False
    seen: set[str] = field(default_factory=set)
    capped: bool = False
    #: the required clauses of characters cut off a word (BuiltQuery.cut_off):
    #: "most words" never admits an article for one of these alone
    cut_off: list[Q.Query] = field(default_factory=list)

    def admit(self, units: list[Unit]) -> list[Unit]:
        """``units`` without those already asked for (a repeated word adds
        cost, not meaning), up to :data:`MAX_QUERY_UNITS` in all."""
        out = []
        for u in units:
            if u.text in self.seen:
                continue
            if len(self.seen) >= MAX_QUERY_UNITS:
                self.capped = True
                break
            self.seen.add(u.text)
            out.append(u)
        return out

    def mark(self, strong: list[Unit], typed_word: str) -> None:
        """Record what the required units of one clause mark and how they
        stand together (the proximity and title-phrase boosts)."""
        for u in strong:
            self.highlight.append(_unit_highlight(u))
            self.highlight_words.append(typed_word)
            if u.kind == UnitKind.PHRASE:  # its words, as they would be without the synonym
                self.prox_words += [p for p in u.parts if not _weak_text(p)]
                self.seq_words += [p for p in u.parts if not _weak_text(p)]
            elif not _weak(u):  # "的" near anything says nothing, and its positions are costly
                self.prox_words.append(u.text)
                # a compound's parts stand one after another (1.0 is 1, 0)
                self.seq_words += u.parts if u.kind == UnitKind.COMPOUND and u.parts else [u.text]
            if u.kind == UnitKind.LATIN:
                self.latin.append(u.text)


def _build(pq: ParsedQuery, analyzer: Analyzer, r: Ranking, synonyms: Synonyms | None, with_alts: bool,
           analysed: _Analysed) -> BuiltQuery:
    """One form of the query: with the alternatives (``with_alts``), or of
    the typed words only."""
    split = _split_question_words(analysed.units.values())
    question = bool(split) or any(u.text in QUESTION_WORDS for units in analysed.units.values() for u in units) \
        or any(c.text.rstrip().endswith(("?", "？")) for g in pq.groups for c in g)
    # the pieces of a question word jieba cut (不能 of 能不能) are its scaffolding, never asked for
    frame = (QUESTION_FRAME_WORDS if question and r.question_frame else frozenset()) | split
    got = _Gathered(question, content=any(not _weak(u) and u.text not in frame
                                          for units in analysed.units.values() for u in units))
    if synonyms is not None and with_alts:
        synonyms = synonyms.site_only() if r.glossary_weight <= 0 else \
            synonyms if r.glossary_phrases else synonyms.site_only(phrases=True)
    for group in pq.groups:
        alts: list[Q.Query] = []
        for clause in group:
            if clause.phrase:
                q = analysed.phrases[id(clause)]
                if q is not None:
                    alts.append(q)
                    got.highlight.append([analyzer.fold_query(clause.text).strip()])
                    got.highlight_words.append(got.highlight[-1][0])
                continue
            subs, texts = _word_clause(got, clause, analysed, analyzer, r, synonyms if with_alts else None,
                                       with_alts, frame, alone=len(group) == 1)
            if subs and len(group) == 1:
                got.required.extend(subs)  # one clause per unit: "most words" can relax them
                got.unit_texts.extend(texts)
            elif subs:
                alts.append(Q.And(subs) if len(subs) > 1 else subs[0])
        if alts:  # a group such as ``a OR b``, or a quoted phrase: one required clause
            got.required.append(UnionOr(alts) if len(alts) > 1 else alts[0])
            got.unit_texts.append(None)
    if got.capped and with_alts:
        pq.notes.append(f"查询词太多，只使用了前 {MAX_QUERY_UNITS} 个词。")
    # filters and exclusions are the main query's (the typed-words form is only ranked within it)
    filt, excl = (_filters(pq, analyzer), _exclusions(pq, analyzer, r)) if with_alts else (None, None)
    return _assemble(got, filt, excl, r)


def _split_question_words(clauses: Iterable[list[Unit]]) -> frozenset[str]:
    """The texts of units that, one after another, spell a question word
    jieba cut in pieces: 能 / 不能 of 能不能, 会 / 不会 of 会不会, 要 / 不要 of
    要不要 (not a piece that only happens to be in one: 写到 / 底层 spells no
    到底)."""
    out: set[str] = set()
    for units in clauses:
        texts = [u.text for u in units]
        for i in range(len(texts)):
            for j in range(i + 2, min(i + _QUESTION_WORD_PIECES, len(texts)) + 1):
                if "".join(texts[i:j]) in QUESTION_WORDS:
                    out.update(texts[i:j])
    return frozenset(out)


#: a question word jieba cuts is in this many pieces at most (可 / 不可 / 以)
_QUESTION_WORD_PIECES = 3


def _word_clause(got: _Gathered, clause, analysed: _Analysed, analyzer: Analyzer, r: Ranking,
                 synonyms: Synonyms | None, with_alts: bool, frame: frozenset[str],
                 alone: bool) -> tuple[list[Q.Query], list[str]]:
    """The required queries of one word clause and the words they stand
    for; its weak words (single characters, stop words, a question's frame)
    go to ``got.optional``."""
    fields = _word_fields(clause.field, r)
    units = got.admit(analysed.units[id(clause)])
    if synonyms is not None:
        units = synonyms.expand(units)
    if not with_alts:
        units = [replace(u, alts=()) for u in units]
    # glossary terms rank below the typed words by their weight alone
    # (Ranking.glossary_tier): no typed-words form to tier them by
    got.has_alts = got.has_alts or any(len(u.alts) > (0 if r.glossary_tier else sum(a.builtin for a in u.alts))
                                       for u in units)
    strong = [u for u in units if not _weak(u) and u.text not in frame]
    # A chunk of only weak words keeps its characters required: measured better
    # on the judged questions ("Redis 为什么这么快" needs 快) than making them
    # optional. Its scaffolding (为什么, 怎么 of "GLM-4 怎么用 vLLM 部署") is
    # never required when the query asks for something else; a query of
    # nothing but weak words asks for them all.
    if not strong:
        strong = [u for u in units if u.text not in STOPWORDS and u.text not in frame] if got.content else units
    weak = [u for u in units if u not in strong]
    subs = [unit_query(u, fields, r, analysed.specs.get(u.text)) for u in strong]
    # 慢 of "慢查询 优化" is asked for: an article without it is about 查询 优化 in
    # general. It is required, for a constant score (a scattered 慢 says nothing
    # of 慢查询); the word written whole adds score as an optional clause
    # (_optional_unit).
    cut_off = [u for u in weak if u.text not in frame and _glued(u, units)] \
        if r.glue_required and not got.question and r.glue_weight > 0 else []
    # (1, not 0: Whoosh's ConstantScoreQuery scores a falsy 0 as 1, and search.vector agrees with Whoosh)
    cut_subs = [Q.ConstantScoreQuery(_cut_off_required(u, units, fields, r), score=1.0) for u in cut_off]
    subs += cut_subs
    if alone:  # one required clause each (in a group such as ``a OR b`` they are one)
        got.cut_off += cut_subs
    if r.version_aware and alone:
        got.versions += [version_query(analysed.specs[u.text], fields, r) for u in strong if u.text in analysed.specs]
    got.mark(strong, analyzer.fold_query(clause.text).strip())
    for u in weak if r.optional_weight > 0 else ():
        got.optional.append(_optional_unit(u, units, fields, r))
    return subs, [u.text for u in strong + cut_off]


def _optional_unit(u: Unit, units: list[Unit], fields: dict[str, float], r: Ranking) -> Q.Query:
    """A weak word of a clause, adding score only."""
    glued = _glued(u, units) if r.glue_weight > 0 else []
    if not glued:
        return unit_query(u, fields, r).with_boost(r.optional_weight)
    # 慢 of 慢查询: the word it was cut from, not 慢 anywhere
    phrases = [Q.Phrase("bigram", bigrams_of(g), boost=r.glue_weight) for g in glued]
    return UnionOr(phrases) if len(phrases) > 1 else phrases[0]


def _cut_off_required(u: Unit, units: list[Unit], fields: dict[str, float], r: Ranking) -> Q.Query:
    """慢 of 慢查询 in an article: the character as a word of its own, or
    the word written whole (jieba may cut 先看慢查询日志 so that 慢 is no
    word of its own there: the bigram field still has it)."""
    phrases = [Q.Phrase("bigram", bigrams_of(g)) for g in _glued(u, units)]
    return UnionOr([unit_query(u, fields, r), *phrases])


def _assemble(got: _Gathered, filt: Q.Query | None, excl: Q.Query | None, r: Ranking) -> BuiltQuery:
    """The query of what was gathered: every required clause, the optional
    ones and the proximity boosts adding score; the "most words" form."""
    if not got.required:
        return BuiltQuery(None, None, filt, excl, got.highlight, got.latin, highlight_words=got.highlight_words)
    optional = got.optional
    if len(got.prox_words) >= 2 and r.proximity_weight > 0:
        optional.append(UnionOr([
            Q.Phrase("body", got.prox_words, slop=r.proximity_slop, boost=r.proximity_weight),
            Q.Phrase("title", got.prox_words, slop=r.proximity_slop, boost=r.proximity_weight * 2),
        ]))
    if len(got.prox_words) >= 2 and r.title_phrase_weight > 0:
        # a title that says what was typed, as typed: "Spring AI 1.0 GA" is
        # not "Spring AI Alibaba 1.0 GA", though both have every word
        optional.append(Q.Phrase("title", got.seq_words, slop=1, boost=r.title_phrase_weight))
    main = Q.And(got.required) if len(got.required) > 1 else got.required[0]
    # "most words": any of the words; a character cut off one (树 of 字典树) is no word alone
    words = [q for q in got.required if not any(q is c for c in got.cut_off)]
    if len(got.required) == 1 or not words:
        relaxed = None
    else:
        relaxed = UnionOr(words) if len(words) > 1 else words[0]
    if optional:
        opt = UnionOr(optional)
        main = Q.AndMaybe(main, opt)
        if relaxed is not None:
            relaxed = Q.AndMaybe(relaxed, opt)
    return BuiltQuery(main, relaxed, filt, excl, got.highlight, got.latin, got.has_alts, versions=got.versions,
                      question=got.question, units=list(got.required), unit_texts=got.unit_texts,
                      cut_off=len(got.cut_off),
                      highlight_words=got.highlight_words)


def _glued(u: Unit, units: list[Unit]) -> list[str]:
    """A single Han character that is not a function word (慢 of 慢查询, 大 of
    大模型, 写 of 写古诗), joined to the Han words typed right before and after
    it: jieba cut it off a word its dictionary lacks, and the character alone
    would match it scattered anywhere in an article."""
    if u.kind != UnitKind.HAN or len(u.text) != 1 or u.text in STOPWORDS:
        return []
    i = next((k for k, v in enumerate(units) if v is u), -1)
    out = []
    for j, before in ((i - 1, False), (i + 1, True)):
        if 0 <= j < len(units) and units[j].kind == UnitKind.HAN and units[j].text not in STOPWORDS:
            out.append(u.text + units[j].text if before else units[j].text + u.text)
    return out


def _weak(u: Unit) -> bool:
    return u.kind != UnitKind.PHRASE and _weak_text(u.text)


def _weak_text(text: str) -> bool:
    return text in STOPWORDS or is_han_char(text)


def _unit_highlight(u: Unit) -> list[str]:
    terms = [u.text] + [a.folded for a in u.alts]
    if u.kind == UnitKind.PHRASE:
        joined = "".join(u.parts)
        if has_han(joined):  # 负载均衡 is written without the space the cut put in it
            return [joined] + terms
        return terms + [joined]
    if u.kind == UnitKind.COMPOUND:
        return terms + ["".join(u.parts)] if u.parts else terms
    if u.kind == UnitKind.LATIN and u.parts:  # gpt4 is also written GPT-4 or GPT 4
        return terms + [sep.join(u.parts) for sep in ("-", " ", ".", "_")]
    return terms + [p for p in u.parts if len(p) > 1]


def _filters(pq: ParsedQuery, analyzer: Analyzer) -> Q.Query | None:
    subs: list[Q.Query] = []
    for t in pq.tags:
        subs.append(Q.Term("tag", analyzer.fold_label(t)))
    for c in pq.categories:
        subs.append(Q.Term("category", analyzer.fold_label(c)))
    if pq.date_range:
        start, end = pq.date_range
        subs.append(Q.DateRange("date", start, end, endexcl=True))
    if not subs:
        return None
    return Q.And(subs) if len(subs) > 1 else subs[0]


def _exclusions(pq: ParsedQuery, analyzer: Analyzer, r: Ranking) -> Q.Query | None:
    subs: list[Q.Query] = []
    for clause in pq.excluded:
        fields = _word_fields(clause.field, r)
        if clause.phrase:
            q = phrase_query(clause.text, fields, analyzer, r)
        else:
            units = analyse(analyzer, clause.text)
            q = Q.And([_exclude_unit(u, fields) for u in units]) if units else None
        if q is not None:
            subs.append(q)
    return UnionOr(subs) if subs else None


def _exclude_unit(u: Unit, fields: dict[str, float]) -> Q.Query:
    """Exclusion matches the word as written (and as a substring for Han)."""
    alts = [_term_any(u.text, fields)]
    grams = bigrams_of(u.text) if u.kind == UnitKind.HAN else []
    if len(grams) == 1:
        alts.append(Q.Term("bigram", grams[0]))
    elif grams:
        alts.append(Q.Phrase("bigram", grams))
    return UnionOr(alts)
