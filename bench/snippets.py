"""Snippets per hit, in process: the best passage alone against the best sections.

Every hit of a result page now lists up to three matching sections
(``Hit.sections``: the search box shows them under the article).
This times the snippet step alone, on the stored sections of the hits the
judged queries (and the traditional-script sentences of ``http_latency.py``)
return, with the snippets module of this tree: one passage (``limit=1``) and
three (``limit=3``), each with the article's joined text the engine keeps
(``doc``) and without it; with ``--baseline CHECKOUT`` (a source tree of an
older version) also that version's ``make_snippet``, in the same process.
Rounds alternate their order; printed: min and median microseconds per hit.

    .venv/bin/python bench/snippets.py --index DIR [--queries FILE] [--rounds 12] [--baseline CHECKOUT]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from http_latency import TRADITIONAL, load_judged

from search import query as qbuild
from search import syntax
from search.engine import Engine, search
from search.snippets import Prepared, make_snippets


def baseline_module(checkout: Path):
    spec = importlib.util.spec_from_file_location("baseline_snippets", checkout / "search" / "snippets.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["baseline_snippets"] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--queries", type=Path, default=ROOT.parent / "shared" / "qrels" / "queries.tsv")
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--baseline", type=Path, help="source tree of the version to compare with")
    args = ap.parse_args()

    engine = Engine(args.index, cache_size=0)
    gen = engine.generation()
    searcher = gen.searcher()
    fold = gen.analyzer.fold
    work = []
    for q in load_judged(args.queries) + TRADITIONAL:
        page = search(engine, q)
        built = qbuild.build(syntax.parse(q), gen.analyzer, qbuild.DEFAULT_RANKING, engine.synonyms(),
                             gen.counts(searcher))
        prepared = Prepared(built.highlight_terms, built.highlight_words)
        for h in page.hits:
            docnum = searcher.document_number(path=h.path)
            fields = gen.stored.get(searcher, docnum)
            work.append((fields.get("sections") or [], built.highlight_terms, prepared,
                         gen.stored.text(searcher, docnum)))
    ways = {
        "this tree, 1 passage, joined text": lambda secs, t, p, d: make_snippets(secs, p, fold, limit=1, doc=d),
        "this tree, 3 sections, joined text": lambda secs, t, p, d: make_snippets(secs, p, fold, limit=3, doc=d),
        "this tree, 3 sections, no joined text": lambda secs, t, p, d: make_snippets(secs, p, fold, limit=3),
    }
    if args.baseline:
        old = baseline_module(args.baseline.resolve())
        ways = {f"baseline {args.baseline} make_snippet": lambda secs, t, p, d: old.make_snippet(secs, t, fold),
                **ways}
    times: dict[str, list[float]] = {k: [] for k in ways}
    for n in range(args.rounds):
        order = list(ways.items())
        for name, fn in order if n % 2 else order[::-1]:
            t0 = time.perf_counter()
            for secs, terms, prepared, doc in work:
                fn(secs, terms, prepared, doc)
            times[name].append((time.perf_counter() - t0) / len(work) * 1e6)
    print(f"{len(work)} hits of {len(load_judged(args.queries)) + len(TRADITIONAL)} queries, {args.rounds} rounds\n")
    print("| way | min µs/hit | median µs/hit |")
    print("|---|---:|---:|")
    for name, v in times.items():
        print(f"| {name} | {min(v):.0f} | {statistics.median(v):.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
