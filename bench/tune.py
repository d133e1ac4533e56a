"""Compare ranking variants on the judged queries, in one process, one index.

    python bench/tune.py --index /tmp/ix [--set backfill_below=10 ...]

Each --set builds a variant of ``search.Ranking``; every variant is scored
with the same ir-measures code as ``zhsearch eval``.  This is for honest,
whole-collection tuning: no variant may look at individual query ids.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

from search import DEFAULT_RANKING, Engine
from search.evaluate import evaluate

ROOT = Path(__file__).resolve().parent.parent
QRELS = ROOT.parent / "shared" / "qrels"


def parse_variant(spec: str):
    changes = {}
    for item in spec.split(","):
        key, _, value = item.partition("=")
        if key.startswith("w."):
            fw = dict(changes.get("field_weights", DEFAULT_RANKING.field_weights))
            fw[key[2:]] = float(value)
            changes["field_weights"] = fw
        else:
            cur = getattr(DEFAULT_RANKING, key)
            changes[key] = type(cur)(value)
    return dataclasses.replace(DEFAULT_RANKING, **changes)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", required=True)
    ap.add_argument("--synonyms", help="synonyms file (default: the indexed corpus's synonyms.txt)")
    ap.add_argument("--set", action="append", default=[], help="k=v[,k=v] (w.title=8 for field weights)")
    args = ap.parse_args()
    engine = Engine(args.index, args.synonyms)
    variants = [("default", DEFAULT_RANKING)] + [(s, parse_variant(s)) for s in args.set]
    print(f"{'variant':<40} nDCG@10 MRR@10  R@10   P@1")
    for name, ranking in variants:
        res = evaluate(engine, QRELS / "queries.tsv", QRELS / "qrels.txt", ranking=ranking)
        a = res.aggregate
        print(f"{name:<40} {a['nDCG@10']:.4f}  {a['RR@10']:.4f}  {a['R@10']:.4f} {a['P@1']:.4f}")


if __name__ == "__main__":
    main()
