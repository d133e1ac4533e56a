"""The site's static files and the content hashes that version their URLs."""

from __future__ import annotations

import hashlib
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"


def asset_versions() -> dict[str, str]:
    """Content hashes of the static files, for cache-busting ``?v=`` URLs."""
    out = {}
    for p in STATIC_DIR.iterdir():
        if p.is_file():
            out[p.name] = hashlib.sha256(p.read_bytes()).hexdigest()[:10]
    return out
