"""indexer.once.BuiltOnce: the table of values built on first use that the
analyzer and each segment's scoring arrays keep."""

from __future__ import annotations

import threading

from indexer.once import BuiltOnce


def test_a_value_is_built_by_the_first_get_and_kept():
    table: BuiltOnce[str, list] = BuiltOnce()
    builds = []
    first = table.get("k", lambda: builds.append(1) or ["v"])
    again = table.get("k", lambda: builds.append(2) or ["other"])
    assert first is again and builds == [1] and len(table) == 1


def test_threads_that_race_all_get_the_one_stored_value():
    table: BuiltOnce[str, object] = BuiltOnce()
    start = threading.Barrier(8)
    got: list[object] = []

    def worker() -> None:
        start.wait()
        got.append(table.get("k", object))  # each builds its own object if it gets there first

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 8 and len({id(v) for v in got}) == 1


def test_a_build_may_ask_for_another_value_of_the_same_table():
    table: BuiltOnce[str, int] = BuiltOnce()
    assert table.get("b", lambda: table.get("a", lambda: 1) + 1) == 2  # no lock is held while building
    assert table.get("a", lambda: 99) == 1


def test_a_limited_table_drops_its_oldest_entry():
    table: BuiltOnce[int, int] = BuiltOnce(limit=3)
    for k in range(5):
        table.get(k, lambda k=k: k * 10)
    assert len(table) == 3
    assert table.get(0, lambda: -1) == -1  # dropped, so built again
    assert table.get(4, lambda: -1) == 40  # kept
