"""The built-in starter glossary.

A site rarely ships a synonyms file, so until this existed a user's site got
no bridge between the words people type and the words its articles use
(``k8s`` / Kubernetes, 向量 / embedding, 量化 / GPTQ).  ``glossary.txt``
beside this module holds groups of equivalent terms of the field (AI,
programming languages, Java, databases, distributed systems and cloud native,
networks and operating systems, the front end), written from the field's
vocabulary, never from judged queries.

Every index uses it by default, underneath the site's ``synonyms.txt``: a
site line that names a term replaces the glossary's line for that term, and
its other lines add to it (:meth:`search.synonyms.Synonyms.over`).
Glossary terms rank below what was typed and below the site's own synonyms
(``Ranking.glossary_weight``); 0 turns the glossary off for a ranking.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

GLOSSARY_FILE = "glossary.txt"


@lru_cache(maxsize=1)
def builtin_text() -> str:
    """The glossary's text, as shipped in the package (read once)."""
    return resources.files(__package__).joinpath(GLOSSARY_FILE).read_text(encoding="utf-8")
