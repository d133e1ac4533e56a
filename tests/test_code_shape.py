"""The query side stays a house a newcomer can read: short functions, no
import cycles dodged inside functions, comments that say what and why.

(``duplicates`` and ruff check the rest; these are what they do not.)
"""

from __future__ import annotations

import ast
import re

import pytest

from tests.conftest import ROOT

SEARCH = ROOT / "search"
#: Longest function in search/, in lines (signature and docstring included).
MAX_FUNCTION_LINES = 60
#: Imports made on first use, on purpose (what they cost, not a cycle): module → names.
LAZY_IMPORTS = {"pinyin.py": {"pypinyin"}, "curation.py": {"yaml"}}

MODULES = sorted(SEARCH.glob("*.py"))


def _functions(tree: ast.AST):
    return (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_function_is_longer_than_a_screen(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    long = {f.name: f.end_lineno - f.lineno + 1 for f in _functions(tree)
            if f.end_lineno - f.lineno + 1 > MAX_FUNCTION_LINES}
    assert not long, long


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_imports_are_at_the_top_unless_deliberately_lazy(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inner = set()
    for f in _functions(tree):
        for node in ast.walk(f):
            if isinstance(node, ast.Import):
                inner |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                inner.add("." * node.level + (node.module or "").split(".")[0])
    assert inner <= LAZY_IMPORTS.get(path.name, set()), inner


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_comments_say_what_and_why_not_which_issue(path):
    text = path.read_text(encoding="utf-8")
    assert not re.findall(r"(?i)\bissue\s+#?\d+", text)
