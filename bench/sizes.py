"""Where an index's bytes go: the sub-files of every compound segment of the
live generation, summed by kind.

    .venv/bin/python bench/sizes.py INDEX_DIR

Kinds: ``.pst`` posting lists and ``.trm`` term dictionaries (ours,
``indexer/codec.py``), ``stored`` (Whoosh's stored fields: titles, URLs,
section texts) and ``column:NAME`` (per-document columns).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexer import store


def sizes(index_dir: Path) -> Counter:
    try:
        ix, _gen = store.open_current(index_dir)
    except store.IndexUnavailable as exc:
        raise SystemExit(str(exc)) from None
    out: Counter = Counter()
    with ix.reader() as reader:
        segments = [leaf.segment() for leaf, _offset in reader.leaf_readers()]
    for seg in segments:
        cfile = seg.open_compound_file(ix.storage)
        for name in cfile.list():
            if name.endswith(".col"):
                field = name.split(".")[-2]
                kind = "stored" if field == "_stored" else f"column:{field}"
            else:
                kind = "." + name.rsplit(".", 1)[-1]
            out[kind] += cfile.file_length(name)
        cfile.close()
    ix.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("index", type=Path)
    args = ap.parse_args()
    got = sizes(args.index)
    total = sum(got.values())
    for kind, n in got.most_common():
        print(f"{kind:24s} {n / 1e6:8.2f} MB  {100 * n / total:5.1f} %")
    print(f"{'total':24s} {total / 1e6:8.2f} MB")


if __name__ == "__main__":
    main()
