"""Query-string parsing shared by the HTML pages and the JSON API.

One parser so ``/search`` and ``/api/search`` accept exactly the same
parameters and reject the same garbage: a bad parameter is a 400 with a
message naming it, never a 500 from deep inside the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from search.engine import MAX_PAGE, MAX_PER_PAGE
from search.models import Filters

SORTS = ("relevance", "date")
DEFAULT_PER_PAGE = 10
#: Longer queries are pasted documents; the engine would cut them at 256 anyway.
MAX_QUERY_LENGTH = 1000
MAX_FILTER_VALUES = 10
MAX_FILTER_LENGTH = 100


class BadParameter(ValueError):
    """A query-string parameter is malformed; ``param`` names it."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param
        self.message = message


@dataclass
class SearchParams:
    q: str = ""
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    sort: str = "relevance"
    tags: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)

    @property
    def has_filters(self) -> bool:
        return bool(self.tags or self.categories)

    @property
    def empty(self) -> bool:
        return not self.q.strip() and not self.has_filters

    def filters(self) -> Filters:
        return Filters(tags=tuple(self.tags), categories=tuple(self.categories))


def _int(args: MultiDict, name: str, default: int, lo: int, hi: int) -> int:
    raw = args.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise BadParameter(name, f"参数 {name} 必须是整数（收到 {raw[:20]!r}）") from None
    if not lo <= value <= hi:
        raise BadParameter(name, f"参数 {name} 必须在 {lo} 到 {hi} 之间（收到 {value}）")
    return value


def _values(args: MultiDict, name: str) -> list[str]:
    values = [v.strip() for v in args.getlist(name) if v and v.strip()]
    if len(values) > MAX_FILTER_VALUES:
        raise BadParameter(name, f"参数 {name} 最多 {MAX_FILTER_VALUES} 个")
    for v in values:
        if len(v) > MAX_FILTER_LENGTH:
            raise BadParameter(name, f"参数 {name} 的值过长（最多 {MAX_FILTER_LENGTH} 个字符）")
    seen: set[str] = set()
    out = []
    for v in values:  # a filter given twice is the same filter
        if v.lower() not in seen:
            seen.add(v.lower())
            out.append(v)
    return out


def parse_search_args(args: MultiDict, *, allow_per_page: bool = False) -> SearchParams:
    """``request.args`` → :class:`SearchParams`, or :class:`BadParameter`."""
    q = args.get("q", "")
    if len(q) > MAX_QUERY_LENGTH:
        raise BadParameter("q", f"查询过长（最多 {MAX_QUERY_LENGTH} 个字符）")
    sort = (args.get("sort") or "relevance").strip()
    if sort not in SORTS:
        raise BadParameter("sort", f"参数 sort 只能是 {' 或 '.join(SORTS)}（收到 {sort[:20]!r}）")
    params = SearchParams(
        q=q,
        page=_int(args, "page", 1, 1, MAX_PAGE),
        sort=sort,
        tags=_values(args, "tag"),
        categories=_values(args, "category"),
    )
    if allow_per_page:
        params.per_page = _int(args, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    return params
