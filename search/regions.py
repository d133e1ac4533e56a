"""Region vocabulary: a query is read in the words the corpus uses.

Characters are folded to simplified at analysis (``Analyzer.fold``:
參數 ≡ 参数), but Taiwan and Hong Kong write many technical words with other
*words*: 記憶體 for 内存, 伺服器 for 服务器, 分散式 for 分布式, 執行緒 for 线程,
交易 for 事务.  OpenCC's phrase tables (``Folding.region_table``, which the
segmenter also reads so that it keeps these words whole) know most;
:data:`IT_WORDS` adds the computing vocabulary they lack.  This module is
the one owner of region words on the query side: it makes both directions
of the table, analyses each region word the first time a query has it
(:meth:`Tables.alternative`) and attaches them to query units.  Every
function reads words with the index's :class:`~indexer.analysis.Analyzer`,
which also keeps the tables built from it.

How a query word is read (:func:`resolve`):

* a Taiwan/Hong Kong word becomes its mainland word when more articles of this
  index use that (記憶體 洩漏 then ranks like 内存 泄漏 on a mainland corpus;
  on a Taiwanese one, where 記憶體 is common, it stays as typed), the typed
  word staying as an alternative;
* some Taiwan words are ordinary mainland words too (交易 "trade", 执行
  "execute", 行程 "itinerary"; told by jieba's dictionary, whose frequencies
  come from mainland text): they are read as Taiwanese only when the query
  shows it is — traditional characters, or another word only Taiwan uses
  (分散式 交易);
* a mainland word becomes its Taiwanese form only on a corpus that hardly
  knows the mainland one, and keeps it as an alternative only when mainland
  text hardly uses it (软体 for 软件, not 矢量 for 向量 or 执行 for 运行) and
  the corpus mixes both;
* Taiwan words that jieba cuts into pieces (快取 → 快 / 取) are put back
  together first.

Alternatives no article uses are dropped: they could only cost time.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, replace
from functools import cached_property

from indexer.analysis import Analyzer, UnitKind

from .units import Alternative, Unit, alternative, replace_runs
from .weights import ArticleCounts

#: Computing words that Taiwan (and Hong Kong) write differently and OpenCC's
#: TWPhrasesRev does not list: Taiwan form, then mainland form(s).
IT_WORDS = """
交易 事务
隔離等級 隔离级别
隔離層級 隔离级别
組態 配置
設定檔 配置文件
憑證 证书
帳號 账号
負載平衡 负载均衡
死結 死锁
號誌 信号量
排程器 调度器
回呼 回调
調校 调优
相依性 依赖
雲端 云
即時 实时
類神經網路 神经网络
推論 推理
巨量資料 大数据
垃圾收集 垃圾回收
預存程序 存储过程
觸發程序 触发器
檢視表 视图
外部索引鍵 外键
例外 异常
行程 进程
執行環境 运行环境
預設 默认
串流 流式
大型語言模型 大语言模型
資料集 数据集
資料增強 数据增强
向量資料庫 向量数据库
顯示卡 显卡
執行緒池 线程池
顯示記憶體 显存
筆電 笔记本电脑
""".strip()

#: A mainland word becomes its Taiwan/Hong Kong form only when that is this
#: many times more frequent in the corpus, keeps it as an alternative only
#: when jieba's dictionary knows it this many times less often than the
#: mainland word; a Taiwan word this many times rarer than its mainland word
#: in jieba's dictionary is Taiwanese only.
RATIO = 10
#: Longest Taiwan word, in query units, put back together.
MAX_PIECES = 4


@dataclass
class Tables:
    """The region words of one analyzer, folded by it."""

    #: Taiwan/HK word → mainland words
    forward: dict[str, list[str]]
    #: mainland word → Taiwan/HK words
    backward: dict[str, list[str]]
    analyzer: Analyzer = field(repr=False)
    #: OpenCC's mainland word → Taiwan/HK words (:func:`quoted`)
    opencc_backward: dict[str, list[str]] = field(default_factory=dict, repr=False)
    #: region word → itself as an alternative, analysed (filled as queries need them)
    _analysed: dict[str, Alternative] = field(default_factory=dict, repr=False)

    @cached_property
    def frequency(self) -> dict[str, int]:
        """Every word of both tables with its frequency in the segmenter's
        dictionary.  Made on first need, by the first query that has a region
        word: reading jieba's dictionary takes 0.2 s, and every other query
        (and every ``zhsearch search`` run) would otherwise pay it."""
        return self.analyzer.frequencies(set(self.forward) | set(self.backward))

    def alternative(self, word: str) -> Alternative:
        """A word of the tables as an alternative, analysed the first time
        a query needs it (of a thousand region words a site's queries
        use a few; analysing them all would cost every first query)."""
        got = self._analysed.get(word)
        if got is None:  # the same value whichever thread makes it
            got = self._analysed[word] = alternative(self.analyzer, word)
        return got


def tables(analyzer: Analyzer) -> Tables:
    """OpenCC's phrase tables and :data:`IT_WORDS`, folded, with the
    dictionary frequencies :func:`taiwan_only` compares (built once per analyzer)."""
    return analyzer.derived("search.regions", lambda: _tables(analyzer))


def _tables(analyzer: Analyzer) -> Tables:
    forward: dict[str, list[str]] = {k: [v] for k, v in analyzer.folding.region_table.items()}
    for line in IT_WORDS.splitlines():
        words = [analyzer.fold_query(w) for w in line.split()]
        if len(words) >= 2:
            alts = forward.setdefault(words[0], [])
            alts += [w for w in words[1:] if w != words[0] and w not in alts]
    backward: dict[str, list[str]] = {}
    for tw, cns in forward.items():
        for cn in cns:
            backward.setdefault(cn, []).append(tw)
    opencc_backward: dict[str, list[str]] = {}
    for tw, cn in analyzer.folding.region_table.items():
        opencc_backward.setdefault(cn, []).append(tw)
    return Tables(forward, backward, analyzer, opencc_backward)


def written_traditional(text: str, analyzer: Analyzer) -> bool:
    """Does ``text`` use traditional characters (folding changes a Han character)?"""
    plain = unicodedata.normalize("NFKC", text).lower()
    return plain != analyzer.fold_query(text)


def taiwan_only(tw: str, cn: str, t: Tables) -> bool:
    """Is ``tw`` a word mainland text hardly uses, next to its mainland ``cn``?"""
    return t.frequency.get(tw, 0) * RATIO <= t.frequency.get(cn, 0)


def rejoin(units: list[Unit] | tuple[Unit, ...], analyzer: Analyzer) -> list[Unit]:
    """Put back together a Taiwan word jieba cut (快取 → 快 / 取)."""
    forward = tables(analyzer).forward

    def join(span: tuple[Unit, ...]) -> Unit | None:
        word = "".join(u.text for u in span)
        if all(u.kind == UnitKind.HAN for u in span) and word in forward:
            return Unit(word, UnitKind.HAN, tuple(u.text for u in span))
        return None

    return replace_runs(units, MAX_PIECES, 2, join)


def taiwanese(units: list[Unit], traditional: bool, analyzer: Analyzer) -> bool:
    """Does a query (all its units, :func:`rejoin`-ed) show it is written in
    Taiwan's words: traditional characters, or a word only Taiwan uses?"""
    t = tables(analyzer)
    return traditional or any(any(taiwan_only(u.text, cn, t) for cn in t.forward.get(u.text, ()))
                              for u in units if u.kind == UnitKind.HAN)


def resolve(units: list[Unit], counts: ArticleCounts, analyzer: Analyzer, taiwanese: bool = False) -> list[Unit]:
    """One clause's units (:func:`rejoin`-ed) read in the corpus's vocabulary
    (see the module docstring), their region forms attached as alternatives;
    ``taiwanese``: see :func:`taiwanese`."""
    t = tables(analyzer)
    forward, backward = t.forward, t.backward
    out = []
    for u in units:
        if u.kind != UnitKind.HAN or (u.text not in forward and u.text not in backward):
            out.append(u)
            continue
        typed_df = _df(counts, u, t)
        mainland = [(a, _df(counts, a, t)) for a in forward.get(u.text, ()) if taiwanese or taiwan_only(u.text, a, t)]
        mainland = [(a, df) for a, df in mainland if df > 0]
        best = max(mainland, key=lambda x: x[1], default=None)
        if best is not None and best[1] > typed_df and (swapped := _one_unit(best[0], t)) is not None:
            rest = [a for a, _ in mainland if a != best[0]]
            out.append(_with(swapped, ([u.text] if typed_df else []) + rest, t))
            continue
        taiwan = [(a, _df(counts, a, t)) for a in backward.get(u.text, ())]
        best = max(((a, df) for a, df in taiwan if df > 0), key=lambda x: x[1], default=None)
        if best is not None and best[1] > RATIO * typed_df and (swapped := _one_unit(best[0], t)) is not None:
            out.append(_with(swapped, [u.text] if typed_df else [], t))
            continue
        # a mainland word keeps its Taiwanese form only where the corpus mixes both
        # (one 资料库 among 700 数据库 would only lift that one article)
        alts = [a for a, _ in mainland] + [a for a, df in taiwan if df and df * RATIO >= typed_df
                                           and taiwan_only(a, u.text, t)]
        out.append(_with(u, alts, t))
    return out


def quoted(unit: Unit, analyzer: Analyzer) -> Unit:
    """A word typed alone in quotes, with its region forms both ways in
    OpenCC's tables (软体 ↔ 软件) as alternatives, whatever the corpus uses:
    what a quoted word has always matched (typed words go through
    :func:`resolve` instead)."""
    t = tables(analyzer)
    table = analyzer.folding.region_table
    words = [table[unit.text]] if unit.text in table else []
    words += [w for w in t.opencc_backward.get(unit.text, ()) if w not in words]
    return _with(unit, words, t) if words else unit


def _with(unit: Unit, words: list[str], t: Tables) -> Unit:
    """``unit`` with the region ``words`` (and nothing else) as its alternatives."""
    return replace(unit, alts=tuple(t.alternative(w) for w in words))


def _df(counts: ArticleCounts, word: Unit | str, t: Tables) -> int:
    """Articles using ``word``; for a word the index keeps in pieces
    (数据库事务), the rarest piece's count: at most that many have them all."""
    if isinstance(word, Unit):
        pieces = word.parts if word.parts and counts.df(word.text) == 0 else (word.text,)
    else:
        units = t.alternative(word).units
        pieces = tuple(u.text for u in units) if len(units) > 1 else (word,)
    return min((counts.df(p) for p in pieces), default=0)


def _one_unit(word: str, t: Tables) -> Unit | None:
    got = t.alternative(word).units
    if len(got) == 1:
        return got[0]
    if got and all(g.kind == UnitKind.HAN for g in got):
        return Unit(word, UnitKind.HAN, tuple(g.text for g in got))
    return None
