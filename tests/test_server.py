"""``zhsearch serve --workers N``: several server processes on one port.

Run as a user runs it (a real process, real HTTP): every worker answers,
a worker that dies is replaced, and Ctrl-C stops them all.
"""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import CORPUS, free_port
from tests.test_faults import finish, group_members, kill_group, start_cli, wait_group_empty


def _get(port: int, path: str, timeout: float = 10) -> tuple[int, bytes]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
        return r.status, r.read()


def _children(pid: int) -> set[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as f:
            return {int(x) for x in f.read().split()}
    except OSError:
        return set()


def _wait(cond, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


def _healthy(port: int) -> bool:
    try:
        return _get(port, "/healthz", timeout=2)[0] == 200
    except OSError:
        return False


@pytest.mark.slow
def test_serve_with_two_workers(corpus_index):
    port = free_port()
    proc = start_cli("serve", "--corpus", str(CORPUS), "--index", str(corpus_index),
                     "--port", str(port), "--workers", "2", "--threads", "4")
    try:
        assert _wait(lambda: _healthy(port), 60), "the server did not come up"
        assert _wait(lambda: len(_children(proc.pid)) == 2, 10), _children(proc.pid)
        workers = _children(proc.pid)

        q = urllib.parse.quote("GPT-4 参数")
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: _get(port, f"/api/search?q={q}"), range(40)))
        assert all(status == 200 for status, _ in answers)
        firsts = {json.loads(body)["hits"][0]["path"] for _, body in answers}
        assert firsts == {"chatgpt-info/what-is-chatgpt.md"}

        # a worker killed (OOM killer, a crash) is replaced; the site keeps answering
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        assert _wait(lambda: victim not in _children(proc.pid) and len(_children(proc.pid)) == 2, 10)
        for _ in range(10):
            assert _get(port, f"/api/search?q={q}")[0] == 200

        os.kill(proc.pid, signal.SIGINT)  # Ctrl-C to the server alone: it stops its workers
        rc, _out, err = finish(proc, 20)
        left = wait_group_empty(proc.pid, 10)
    finally:
        kill_group(proc.pid)
    assert rc == 0, err
    assert "Traceback" not in err, err
    assert not left, f"processes left after Ctrl-C: {left}"
    assert not _healthy(port)


def test_serve_workers_die_with_a_killed_parent(corpus_index):
    """kill -9 of the supervising process must not leave orphan servers
    holding the port."""
    port = free_port()
    proc = start_cli("serve", "--corpus", str(CORPUS), "--index", str(corpus_index),
                     "--port", str(port), "--workers", "2")
    try:
        assert _wait(lambda: _healthy(port), 60)
        assert _wait(lambda: len(_children(proc.pid)) == 2, 10)
        os.kill(proc.pid, signal.SIGKILL)
        finish(proc, 10)  # its pipes close once the workers holding them are gone too
        assert _wait(lambda: not group_members(proc.pid), 10), group_members(proc.pid)
    finally:
        kill_group(proc.pid)
    assert not _healthy(port)


@pytest.mark.slow
def test_a_crash_loop_stops_the_server_with_a_message(corpus_index):
    """Workers that keep dying (a broken deployment) are not restarted for
    ever: after more than MAX_RESTARTS deaths within the window the server
    stops and says why."""
    from web.server import MAX_RESTARTS

    port = free_port()
    proc = start_cli("serve", "--corpus", str(CORPUS), "--index", str(corpus_index),
                     "--port", str(port), "--workers", "2")
    try:
        assert _wait(lambda: _healthy(port), 60)
        killed: set[int] = set()
        for _ in range(MAX_RESTARTS + 1):
            assert _wait(lambda: len(_children(proc.pid) - killed) == 2, 10), "no replacement started"
            victim = min(_children(proc.pid) - killed)
            killed.add(victim)
            os.kill(victim, signal.SIGKILL)
        rc, _out, err = finish(proc, 20)
        left = wait_group_empty(proc.pid, 10)
    finally:
        kill_group(proc.pid)
    assert "stopping the server" in err, err
    assert "Traceback" not in err, err
    assert not left
    assert rc == 0
