"""Whoosh's own test suite is the contract of our codec and patches.

The Whoosh-Reloaded sdist of the installed version (fetched from PyPI into
``.cache/``, see ``tests/whoosh_suite/sdist.py``) carries Whoosh's tests.
They run here, in a subprocess, with ``ZhCodec`` as Whoosh's default codec
and ``indexer.whoosh_compat.install()`` applied (``tests/whoosh_suite/plugin.py``),
and every one of them must pass: none skipped, none edited.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from tests.browser import in_ci
from tests.whoosh_suite import sdist


@pytest.fixture(scope="module")
def suite_dir(tmp_path_factory):
    try:
        archive = sdist.fetch()
    except sdist.SdistUnavailable as exc:
        message = f"Whoosh's test suite is unavailable: {exc}"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return sdist.extract_tests(archive, tmp_path_factory.mktemp("whoosh-sdist"))


@pytest.mark.slow
def test_whoosh_suite_passes_with_our_codec_and_patches(suite_dir, tmp_path):
    junit = tmp_path / "junit.xml"
    report = tmp_path / "plugin.json"
    ini = tmp_path / "pytest.ini"
    ini.write_text("[pytest]\n", encoding="utf-8")  # not the sdist's, not ours
    env = dict(os.environ, ZHSEARCH_WHOOSH_SUITE_REPORT=str(report),
               PYTHONPATH=os.pathsep.join(filter(None, [str(sdist.ROOT), os.environ.get("PYTHONPATH")])))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--tb=short", "-p", "no:cacheprovider",
         "-p", "tests.whoosh_suite.plugin", "-c", str(ini), "--rootdir", str(suite_dir.parent),
         f"--junitxml={junit}", str(suite_dir)],
        cwd=suite_dir.parent, env=env, capture_output=True, text=True, timeout=1800,
    )
    tail = "\n".join(proc.stdout.splitlines()[-60:]) + proc.stderr[-3000:]
    assert junit.is_file(), f"Whoosh's suite did not run (exit {proc.returncode}):\n{tail}"

    cases = list(ET.parse(junit).getroot().iter("testcase"))
    bad = [f"{c.get('classname')}::{c.get('name')}: {child.tag}"
           for c in cases for child in c if child.tag in ("failure", "error", "skipped")]
    files = {c.get("classname").rsplit(".", 1)[-1] for c in cases}
    want_files, want_tests = sdist.EXPECTED[sdist.version()]
    assert not bad, f"{len(bad)} of {len(cases)} Whoosh tests did not pass:\n" + "\n".join(bad) + f"\n{tail}"
    assert proc.returncode == 0, tail
    assert (len(files), len(cases)) == (want_files, want_tests), sorted(files)

    seen = json.loads(report.read_text(encoding="utf-8"))
    assert seen["patches_installed"] and seen["default_codec"] == "zh_default_codec", seen
    assert seen["zh_codecs_made"] > 100, seen  # the suite's indexes were written with ZhCodec


def test_a_missing_or_different_sdist_is_refused_loudly(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ZHSEARCH_WHOOSH_SDIST", str(tmp_path / "nope.tar.gz"))
    with pytest.raises(sdist.SdistUnavailable, match="is not a file"):
        sdist.fetch()
    assert sdist.main() == 1  # what .ci/run runs before pytest: a non-zero exit stops CI
    assert "Whoosh's test suite is unavailable" in capsys.readouterr().err

    fake = tmp_path / sdist.filename()
    fake.write_bytes(b"not the sdist")
    monkeypatch.setenv("ZHSEARCH_WHOOSH_SDIST", str(fake))
    with pytest.raises(sdist.SdistUnavailable, match="SHA-256"):
        sdist.fetch()


@pytest.mark.slow
def test_a_failed_download_is_refused_loudly(tmp_path, monkeypatch):
    monkeypatch.delenv("ZHSEARCH_WHOOSH_SDIST", raising=False)
    for var, value in (("PIP_NO_INDEX", "1"), ("PIP_CONFIG_FILE", os.devnull), ("PIP_FIND_LINKS", "")):
        monkeypatch.setenv(var, value)
    with pytest.raises(sdist.SdistUnavailable, match="pip download"):
        sdist.fetch(tmp_path / "cache")
