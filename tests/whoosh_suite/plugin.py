"""pytest plugin that runs Whoosh's own tests against zhsearch's Whoosh.

Loaded with ``-p tests.whoosh_suite.plugin`` in the subprocess that
``tests/test_whoosh_suite.py`` starts on the sdist's ``tests/`` folder.
Before any test module is imported it applies the project's patches
(``indexer.whoosh_compat.install``) and makes ``ZhCodec`` Whoosh's default
codec, so every index the suite writes without naming a codec is written and
read back by ours.  At the end it writes what it saw to
``$ZHSEARCH_WHOOSH_SUITE_REPORT`` (JSON), so the caller can tell that the
codec was really used.
"""

from __future__ import annotations

import json
import os

import whoosh.codec

from indexer import whoosh_compat
from indexer.codec import ZhCodec

_codecs_made = 0


def zh_default_codec(*args, **kwargs) -> ZhCodec:
    """Stands in for ``whoosh.codec.default_codec``."""
    global _codecs_made
    _codecs_made += 1
    return ZhCodec(*args, **kwargs)


def pytest_configure(config) -> None:
    whoosh_compat.install()
    whoosh.codec.default_codec = zh_default_codec


def pytest_sessionfinish(session, exitstatus) -> None:
    path = os.environ.get("ZHSEARCH_WHOOSH_SUITE_REPORT")
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"zh_codecs_made": _codecs_made, "patches_installed": whoosh_compat.installed(),
                       "default_codec": whoosh.codec.default_codec.__qualname__}, f)
