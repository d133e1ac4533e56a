"""What an index holds, as text that does not depend on how it was written.

    .venv/bin/python bench/index_content.py INDEX OUT

Writes to OUT every document (by path: its stored fields, column values and
field lengths) and every term (its statistics, and its postings by path:
weight and encoded positions), sorted; prints the file's SHA-256.  Document
numbers and segments are left out: a full build spreads articles over its
worker processes in no fixed order, so two builds of one corpus number them
differently.  Two indexes whose files are byte-identical hold the same
thing: the check that a change to the writer (``indexer/``) writes the same
index as before.  Build the same corpus (same path, same files) with both
versions, then dump both indexes with this checkout's code, which also reads
indexes written by older versions.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer import store


def dump(index: Path, out) -> int:
    """Write what ``index`` holds to ``out``; returns the number of terms."""
    ix, _ = store.open_current(index)
    schema = ix.schema
    names = sorted(schema.names())
    scorable = [f for f in names if schema[f].scorable]
    columns = [f for f in names if schema[f].column_type]
    with ix.reader() as r:
        paths = {d: r.stored_fields(d)["path"] for d in r.all_doc_ids()}
        out.write(f"doc_count {r.doc_count()} fields {names}\n")
        for f in scorable:
            out.write(f"field_length {f} {r.field_length(f)}\n")
        readers = {f: r.column_reader(f, translate=False) for f in columns}
        docs = []
        for d, path in paths.items():
            docs.append(" | ".join((
                f"doc {path!r}",
                "stored " + repr(sorted(r.stored_fields(d).items())),
                "columns " + repr([(f, readers[f][d]) for f in columns]),
                "lengths " + repr([(f, r.doc_field_length(d, f)) for f in scorable]),
            )))
        out.writelines(line + "\n" for line in sorted(docs))
        terms = 0
        for fieldname, btext in r.all_terms():
            ti = r.term_info(fieldname, btext)
            m = r.postings(fieldname, btext)
            posts = []
            while m.is_active():
                posts.append((paths[m.id()], m.weight(), m.value()))
                m.next()
            out.write(f"term {fieldname} {btext!r} df={ti.doc_frequency()} w={ti.weight()} mw={ti.max_weight()} "
                      f"minl={ti.min_length()} maxl={ti.max_length()} {sorted(posts)!r}\n")
            terms += 1
        out.write(f"terms {terms}\n")
    ix.close()
    return terms


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("index", type=Path, help="an index folder (its live generation is read)")
    ap.add_argument("out", type=Path, help="the text file to write")
    args = ap.parse_args()
    with open(args.out, "w", encoding="utf-8") as out:
        terms = dump(args.index, out)
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"{args.index}: {terms} terms -> {args.out} sha256 {digest[:16]}")


if __name__ == "__main__":
    main()
