"""Whoosh's own test suite, from the Whoosh-Reloaded sdist on PyPI.

The suite is the contract of our codec (``tests/test_whoosh_suite.py`` runs
it with ``ZhCodec`` as Whoosh's default codec).  Its files are not part of
this repository: the sdist of the installed Whoosh version is fetched with
pip into a git-ignored cache folder and checked against its known SHA-256.

    .venv/bin/python -m tests.whoosh_suite.sdist     # fetch (CI does this first)

``ZHSEARCH_WHOOSH_SDIST=/path/to/Whoosh-Reloaded-2.7.5.tar.gz`` uses a copy
you already have (offline machines).
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import whoosh

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "whoosh-sdist"
DISTRIBUTION = "Whoosh-Reloaded"
#: SHA-256 of each known sdist (from PyPI), so a different file is never run
#: as the contract.
SHA256 = {
    "2.7.5": "39ed7dfbd1fec97af33933107bdf78110728375ed0f2abb25dec6dbfdcb279d8",
}
#: What that sdist's suite holds: test files and tests.
EXPECTED = {
    "2.7.5": (33, 588),
}


class SdistUnavailable(RuntimeError):
    """The sdist could not be found or fetched; the message says why."""


def version() -> str:
    """The installed Whoosh's version: the suite of exactly that version is run."""
    return whoosh.versionstring()


def filename(ver: str | None = None) -> str:
    return f"{DISTRIBUTION}-{ver or version()}.tar.gz"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _checked(path: Path, ver: str) -> Path:
    want = SHA256.get(ver)
    if want is None:
        raise SdistUnavailable(f"no known SHA-256 for the {DISTRIBUTION} {ver} sdist; "
                               "add it to tests/whoosh_suite/sdist.py (SHA256, EXPECTED)")
    got = _sha256(path)
    if got != want:
        raise SdistUnavailable(f"{path} has SHA-256 {got}, not the {DISTRIBUTION} {ver} sdist's {want}")
    return path


def fetch(cache: Path = CACHE) -> Path:
    """The sdist of the installed Whoosh version: ``$ZHSEARCH_WHOOSH_SDIST``,
    else the cached copy, else downloaded from PyPI with pip into ``cache``."""
    ver = version()
    given = os.environ.get("ZHSEARCH_WHOOSH_SDIST")
    if given:
        path = Path(given)
        if not path.is_file():
            raise SdistUnavailable(f"ZHSEARCH_WHOOSH_SDIST={given} is not a file")
        return _checked(path, ver)
    path = cache / filename(ver)
    if path.is_file():
        return _checked(path, ver)
    cache.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
           "--no-binary", ":all:", "--no-deps", "--dest", str(cache), f"{DISTRIBUTION}=={ver}"]
    log.info("fetching %s", " ".join(cmd))
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SdistUnavailable(f"`pip download {DISTRIBUTION}=={ver}` failed: {exc}") from exc
    if proc.returncode != 0 or not path.is_file():
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
        raise SdistUnavailable(f"`pip download --no-binary :all: {DISTRIBUTION}=={ver}` failed "
                               f"(exit {proc.returncode}):\n{tail}")
    return _checked(path, ver)


def extract_tests(sdist: Path, dest: Path) -> Path:
    """Extract only the sdist's ``tests/`` folder into ``dest``; its path."""
    prefix = sdist.name[: -len(".tar.gz")] + "/tests/"
    with tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(prefix) and (m.isfile() or m.isdir())
                   and ".." not in Path(m.name).parts]
        if not members:
            raise SdistUnavailable(f"{sdist} holds no {prefix}")
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # Python >= 3.11.4
        tar.extractall(dest, members=members, **safe)
    return dest / prefix.rstrip("/")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        path = fetch()
    except SdistUnavailable as exc:
        print(f"error: Whoosh's test suite is unavailable: {exc}", file=sys.stderr)
        return 1
    print(f"Whoosh test suite: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
