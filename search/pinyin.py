"""Pinyin rescue: ``canshu`` → “您是不是要找：参数”.

People type pinyin when their input method is off.  A Latin query that finds
nothing (or almost nothing), is not a word the corpus knows, and splits fully
into pinyin syllables is matched against the pinyin of the index's own Chinese
vocabulary (pypinyin), candidates ranked by how many articles use the word.
Only ever offered as a suggestion, never a silent rewrite.
"""

from __future__ import annotations

import re
from collections import defaultdict
from itertools import islice, product

from .chars import COMMON_HAN_CLASS
from .spelling import Vocabulary, term_counts

_VOCAB_FIELDS = ("title", "keywords", "headings", "body")
_HAN_TERM = re.compile(f"^[{COMMON_HAN_CLASS}]{{2,6}}$")
MIN_DF = 2

SYLLABLES = frozenset("""
a ai an ang ao ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu ca cai can
cang cao ce cen ceng cha chai chan chang chao che chen cheng chi chong chou chu chua chuai
chuan chuang chui chun chuo ci cong cou cu cuan cui cun cuo da dai dan dang dao de den deng
di dian diao die ding diu dong dou du duan dui dun duo e ei en eng er fa fan fang fei fen
feng fiao fo fou fu ga gai gan gang gao ge gei gen geng gong gou gu gua guai guan guang gui
gun guo ha hai han hang hao he hei hen heng hm hong hou hu hua huai huan huang hui hun huo
ji jia jian jiang jiao jie jin jing jiong jiu ju juan jue jun ka kai kan kang kao ke ken
keng kong kou ku kua kuai kuan kuang kui kun kuo la lai lan lang lao le lei leng li lia
lian liang liao lie lin ling liu lo long lou lu luan lun luo lv lve m ma mai man mang mao
me mei men meng mi mian miao mie min ming miu mo mou mu n na nai nan nang nao ne nei nen
neng ni nian niang niao nie nin ning niu nong nou nu nuan nun nuo nv nve o ou pa pai pan
pang pao pei pen peng pi pian piao pie pin ping po pou pu qi qia qian qiang qiao qie qin
qing qiong qiu qu quan que qun ran rang rao re ren reng ri rong rou ru rua ruan rui run ruo
sa sai san sang sao se sen seng sha shai shan shang shao she shen sheng shi shou shu shua
shuai shuan shuang shui shun shuo si song sou su suan sui sun suo ta tai tan tang tao te
teng ti tian tiao tie ting tong tou tu tuan tui tun tuo wa wai wan wang wei wen weng wo wu
xi xia xian xiang xiao xie xin xing xiong xiu xu xuan xue xun ya yan yang yao ye yi yin
ying yo yong you yu yuan yue yun za zai zan zang zao ze zei zen zeng zha zhai zhan zhang
zhao zhe zhen zheng zhi zhong zhou zhu zhua zhuai zhuan zhuang zhui zhun zhuo zi zong zou
zu zuan zui zun zuo
""".split())
_LONGEST = max(len(s) for s in SYLLABLES)


def syllables(word: str) -> list[str] | None:
    """Split ``word`` into pinyin syllables (longest first, with backtracking)."""
    word = word.lower()
    memo: dict[int, list[str] | None] = {}

    def split(i: int) -> list[str] | None:
        if i == len(word):
            return []
        if i in memo:
            return memo[i]
        for n in range(min(_LONGEST, len(word) - i), 0, -1):
            piece = word[i:i + n]
            if piece in SYLLABLES:
                rest = split(i + n)
                if rest is not None:
                    memo[i] = [piece] + rest
                    return memo[i]
        memo[i] = None
        return None

    return split(0) if word.isascii() and word.isalpha() else None


def looks_like_pinyin(query: str) -> bool:
    words = query.split()
    return bool(words) and all(syllables(w) for w in words) and sum(
        len(syllables(w) or []) for w in words) >= 2


def wants_pinyin(words: list[str], vocab: Vocabulary) -> bool:
    """Whether the Latin ``words`` of a query are worth a pinyin rescue: they
    read as pinyin and none is a word three or more articles use (``pandas``
    splits into syllables but is meant as typed)."""
    return looks_like_pinyin(" ".join(words)) and not any(vocab.df.get(w, 0) >= 3 for w in words)


def _readings(term: str, limit: int = 8) -> list[str]:
    """Every toneless reading of ``term`` (polyphones: 微调 → weitiao, weidiao)."""
    # imported on first use: loading pypinyin's dictionaries takes ~0.2 s, and
    # only a process that builds a pinyin index (on a query that finds
    # little) needs them
    from pypinyin import Style, pinyin

    per_char = pinyin(term, style=Style.NORMAL, heteronym=True, errors="ignore")
    return ["".join(p) for p in islice(product(*per_char), limit)]


class PinyinIndex:
    """Toneless pinyin (syllables joined) → Chinese words of one generation."""

    def __init__(self, reader) -> None:
        df: dict[str, int] = defaultdict(int)
        for fieldname in _VOCAB_FIELDS:
            # Han terms sort after all ASCII ones: start at the first of the block
            for term, n in term_counts(reader, fieldname, _HAN_TERM, start=COMMON_HAN_CLASS[0]).items():
                df[term] += n
        self.by_key: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for term, n in df.items():
            if n >= MIN_DF:
                for key in _readings(term):
                    self.by_key[key].append((n, term))
        for cands in self.by_key.values():
            cands.sort(reverse=True)

    def best(self, key: str) -> str | None:
        cands = self.by_key.get(key)
        return cands[0][1] if cands else None

    def suggest(self, query: str) -> str | None:
        """Chinese words for a pinyin query, e.g. ``xiangliang shujuku`` → ``向量 数据库``."""
        out: list[str] = []
        for word in query.lower().split():
            found = self.best(word) or self._segment(word)
            if not found:
                return None
            out.append(found)
        return " ".join(out)

    def _segment(self, word: str) -> str | None:
        """``xiangliangshujuku`` → ``向量数据库``: fewest known words covering it."""
        sylls = syllables(word)
        if not sylls:
            return None
        n = len(sylls)
        best: list[tuple[int, int, list[str]] | None] = [None] * (n + 1)
        best[0] = (0, 0, [])
        for i in range(n):
            if best[i] is None:
                continue
            pieces, score, words = best[i]
            for j in range(i + 1, min(n, i + 6) + 1):
                cands = self.by_key.get("".join(sylls[i:j]))
                if not cands:
                    continue
                cand = (pieces + 1, score - cands[0][0], words + [cands[0][1]])
                if best[j] is None or cand[:2] < best[j][:2]:
                    best[j] = cand
        return "".join(best[n][2]) if best[n] else None
