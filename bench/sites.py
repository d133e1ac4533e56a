"""Are zhsearch's links right on real builds?  A result must open the page the
site's generator built, at the heading's element.

Builds each fixture site (``tests/fixtures/sites``) and real public sites
with their real generators, indexes their sources with ``--generator
auto``, runs ``check-links`` on what was built and prints the counts:

    .venv/bin/python bench/sites.py                       # fixtures + every real site prepared
    .venv/bin/python bench/sites.py --fixtures            # fixtures only
    .venv/bin/python bench/sites.py --markup ../shared/corpus   # no :::, {% or <Badge in any title or text

Real sites are prepared by hand in ``SCRATCH/real/<name>`` (a snapshot of
the repository, its npm dependencies installed there; see bench/README.md):

* ``vdoing``: github.com/xugaoyi/vuepress-theme-vdoing, its docs (VuePress 1.9 + vdoing, 233 articles);
* ``hexo-site``: github.com/hexojs/site (Hexo 8, the Hexo project's own site, 466 articles);
* ``coderzh``: github.com/coderzh/coderzh-hugo-blog (Hugo, a Chinese blog, 350 articles; its theme is a
  git submodule, absent from the snapshot: minimal layouts stand in, which changes no URL or id).

Nothing here is a pass/fail test; the target is 0 everywhere.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.build import IndexConfig, update_index
from search.checklinks import BuiltSite, Problem, check_links
from tests.fixtures.sites.build import GENERATORS, SCRATCH, build


@dataclass(frozen=True)
class RealSite:
    name: str
    corpus: str  # the sources zhsearch indexes, relative to the site
    output: str  # the generator's output folder, relative to the site
    command: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()


REAL = (
    RealSite("vdoing", "docs", "docs/.vuepress/dist",
             ("node", "--max_old_space_size=4096", "node_modules/vuepress/cli.js", "build", "docs"),
             (("NODE_OPTIONS", "--openssl-legacy-provider"),)),
    RealSite("hexo-site", "source", "public", ("node_modules/.bin/hexo", "generate", "--silent")),
    RealSite("coderzh", "content", "public", ("hugo", "--quiet", "--destination", "public")),
)

_STUB_LAYOUTS = {
    "baseof.html": '<!DOCTYPE html><html><head><meta charset="utf-8"><title>{{ .Title }}</title></head>'
                   '<body>{{ block "main" . }}{{ end }}</body></html>\n',
    "single.html": '{{ define "main" }}<h1>{{ .Title }}</h1>{{ .Content }}{{ end }}\n',
    "list.html": '{{ define "main" }}<h1>{{ .Title }}</h1>{{ .Content }}{{ end }}\n',
}


def _stub_missing_theme(site: Path) -> bool:
    """A Hugo site whose theme is an absent submodule gets minimal layouts
    (URLs and heading ids do not depend on the theme's templates)."""
    theme = site / "themes"
    if not theme.is_dir() or any(theme.rglob("single.html")):
        return False
    for t in [p for p in theme.iterdir() if p.is_dir()] or [theme / "stub"]:
        for name, text in _STUB_LAYOUTS.items():
            (t / "layouts" / "_default").mkdir(parents=True, exist_ok=True)
            (t / "layouts" / "_default" / name).write_text(text, encoding="utf-8")
    return True


def check(name: str, corpus: Path, output: Path, index: Path, build_s: float) -> dict:
    t0 = time.perf_counter()
    report = update_index(IndexConfig(corpus, index, workers=2), rebuild=True)
    index_s = time.perf_counter() - t0
    links = check_links(index, BuiltSite.from_dir(output))
    row = {"site": name, "generator": report.site, "articles": links.articles, "pages": links.pages_found,
           "anchors": links.anchors_checked, "missing_pages": links.count(Problem.MISSING_PAGE),
           "redirects": links.count(Problem.REDIRECT), "missing_anchors": links.count(Problem.MISSING_ANCHOR),
           "skipped": len(report.skipped), "build_s": round(build_s, 1), "index_s": round(index_s, 1),
           "examples": [f"{i.problem.value}: {i.path} {i.url} {i.detail}" for i in links.issues[:8]]}
    print(f"{name:<11} {row['articles']:>5} articles {row['pages']:>5} pages {row['anchors']:>6} anchors | "
          f"missing pages {row['missing_pages']:>3}  redirects {row['redirects']:>3}  "
          f"missing anchors {row['missing_anchors']:>3} | {report.site}", flush=True)
    for line in row["examples"]:
        print("    " + line)
    return row


def run_fixtures(tmp: Path) -> list[dict]:
    rows = []
    for name, gen in GENERATORS.items():
        t0 = time.perf_counter()
        out = build(gen, ROOT / "tests" / "fixtures" / "sites" / name, SCRATCH / name / "site")
        rows.append(check(f"fixture:{name}", SCRATCH / name / "site" / gen.source, out, tmp / f"ix-{name}",
                          time.perf_counter() - t0))
    return rows


def run_real(tmp: Path, only: list[str]) -> list[dict]:
    rows = []
    for site in REAL:
        where = SCRATCH / "real" / site.name
        if only and site.name not in only:
            continue
        if not where.is_dir():
            print(f"{site.name:<11} not prepared in {where} (see the docstring)")
            continue
        stubbed = _stub_missing_theme(where) if site.name == "coderzh" else False
        t0 = time.perf_counter()
        proc = subprocess.run(site.command, cwd=where, env={**os.environ, **dict(site.env)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            print(f"{site.name:<11} build failed: {proc.stderr.strip()[-600:]}")
            continue
        row = check(site.name, where / site.corpus, where / site.output, tmp / f"ix-{site.name}",
                    time.perf_counter() - t0)
        row["stub_layouts"] = stubbed
        rows.append(row)
    return rows


def run_markup(corpus: Path, tmp: Path) -> dict:
    """Index ``corpus`` and look at everything a result can show: every
    title and every stored section (heading and text: snippets are cut from
    them) must be free of container markers, Hexo tags and Badge source."""
    from indexer import store
    from search.engine import Engine, search

    index = tmp / "ix-markup"
    update_index(IndexConfig(corpus, index, workers=2))
    ix, _gen = store.open_current(index)
    found: dict[str, list[str]] = {":::": [], "{%": [], "<Badge": []}
    docs = 0
    with ix.searcher() as s:
        for docnum in s.reader().all_doc_ids():
            f = s.stored_fields(docnum)
            docs += 1
            texts = [f.get("title_text") or "", f.get("description_text") or ""]
            texts += [sec[0] for sec in f.get("sections") or ()]
            texts += [sec[2] for sec in f.get("sections") or ()]
            for mark, where in found.items():
                if any(mark in t for t in texts):
                    where.append(f["path"])
    ix.close()
    engine = Engine(index)
    snippets = 0
    for q in ("tip", "warning", "提示", "注意", "note", "Badge", "容器", "徽章", "配置", "danger"):
        for hit in search(engine, q, per_page=50).hits:
            snippets += 1
            for mark, where in found.items():
                if mark in hit.snippet_html or mark in hit.title_html:
                    where.append(f"{hit.path} (query {q})")
    out = {"corpus": str(corpus), "articles": docs, "snippets_checked": snippets,
           **{mark: len(paths) for mark, paths in found.items()},
           "examples": {mark: paths[:5] for mark, paths in found.items() if paths}}
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixtures", action="store_true", help="only the fixture sites")
    ap.add_argument("--real", nargs="*", default=None, help="only these real sites (default: all prepared)")
    ap.add_argument("--markup", type=Path, help="check a corpus for markup in titles and texts instead")
    ap.add_argument("--json", type=Path, help="also write the rows here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="sites-bench-") as tmp:
        if args.markup:
            run_markup(args.markup, Path(tmp))
            return
        rows = [] if args.real is not None else run_fixtures(Path(tmp))
        if not args.fixtures:
            rows += run_real(Path(tmp), args.real or [])
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
