"""Load: the real ``zhsearch serve`` under 8 concurrent clients for ~10 s while
``zhsearch index --rebuild`` and then an incremental ``zhsearch index`` run.

The short, CI version of ``bench/load.py`` (same code: :func:`bench.load.run_scenario`)
on a private copy of the embedded corpus (~100 articles).  Asserted: not one
failed request (any status but 200, or a connection error), the site keeps
serving while the indexer runs (at least a quarter of the requests per second
it answers when only serving, both measured in the run), the rebuilt
generation and then the edited article's new word are served sooner after
the command returns than the command itself took, and the server's memory is
stable (RSS at the end below twice the start plus 100 MB).  No figure in
seconds is asserted (machines are shared); the figures are printed
(``pytest -s``), attached to the test report as properties, and measured on
the development corpus by ``bench/load.py`` (bench/README.md).
"""

from __future__ import annotations

import shutil
import sys

import pytest

from bench.load import Scenario, format_report, load_queries, run_scenario
from tests.conftest import CORPUS, QRELS

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/PID/status")]

DURATION_S = 10.0
CLIENTS = 8
#: requests per second while indexing, at least this share of those while only serving
INDEXING_SHARE = 0.25


def test_serve_under_load_while_the_index_is_rebuilt_and_updated(tmp_path, record_property):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    queries = load_queries(QRELS / "queries.tsv")  # the built-in copy of the 40 queries when ../shared is absent
    assert len(queries) >= 40
    rep = run_scenario(Scenario(corpus=corpus, index=tmp_path / "index", duration=DURATION_S, clients=CLIENTS,
                                seed=7, queries=queries, rebuild_at=1.0, settle=1.0, log=lambda m: print(m)))
    print(format_report(rep))
    for key in ("requests", "rps", "failures", "rss_start_mb", "rss_end_mb", "rss_peak_mb", "duration_s"):
        record_property(key, getattr(rep, key))
    for c in rep.commands:
        record_property(f"{c['name']} visible after s", c["visible_after_s"])

    assert rep.documents >= 90
    assert rep.duration_s >= DURATION_S
    assert rep.failures == 0, rep.failure_examples
    # every kind of page was under load, and enough of it
    assert set(rep.latency_ms) >= {"all", "search", "api", "suggest", "article", "home", "healthz"}
    # the indexer does not starve the site
    indexing, serving = rep.phases["indexing"], rep.phases["serving only"]
    assert indexing["requests"] > 0 and serving["requests"] > 0, rep.phases
    assert indexing["rps"] >= INDEXING_SHARE * serving["rps"], rep.phases
    # both updates are served sooner after the command returns than the command took
    assert [c["name"] for c in rep.commands] == ["index --rebuild", "index (incremental)"]
    for c in rep.commands:
        assert c["visible_after_s"] is not None and c["visible_after_s"] <= c["seconds"], c
    assert rep.rss_start_mb > 0
    assert rep.rss_end_mb < rep.rss_start_mb * 2 + 100, (rep.rss_start_mb, rep.rss_end_mb)
