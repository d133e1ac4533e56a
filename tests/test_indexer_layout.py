"""How indexer/ is put together: rules a refactor must not quietly undo.

* Imports between indexer modules point one way: no cycle, and no import
  of an indexer module inside a function (the way a cycle is usually
  dodged).
* A Han character is defined once (``indexer/han.py``); jieba's own,
  narrower block lives in ``indexer/segmenter.py``.
* Indexes written before the text field and the positions format left
  ``indexer/codec.py`` keep opening: their pickled schemas name the classes
  there.
"""

from __future__ import annotations

import ast
import pickle
import re
from pathlib import Path

from indexer import analysis, han
from indexer.positions import CompactPositions
from indexer.schema import build_schema
from indexer.textfield import InterningText

INDEXER = Path(__file__).resolve().parent.parent / "indexer"


def _modules() -> dict[str, ast.Module]:
    return {p.stem: ast.parse(p.read_text(encoding="utf-8"), str(p)) for p in sorted(INDEXER.glob("*.py"))}


def _indexer_imports(node: ast.AST) -> set[str]:
    """The indexer modules an import statement names."""
    if isinstance(node, ast.ImportFrom):
        if node.level == 1:
            return {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
        if node.level == 0 and node.module and node.module.split(".")[0] == "indexer":
            parts = node.module.split(".")
            return {parts[1]} if len(parts) > 1 else {a.name for a in node.names}
    if isinstance(node, ast.Import):
        return {a.name.split(".")[1] for a in node.names if a.name.startswith("indexer.")}
    return set()


def _module_level_imports(tree: ast.Module) -> set[str]:
    """Indexer modules imported when the module is (outside any function)."""
    found: set[str] = set()
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        found |= _indexer_imports(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph``, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> list[str] | None:
        state[name] = 1
        for dep in sorted(graph.get(name, ())):
            if state.get(dep) == 1:
                return path[path.index(dep):] + [dep]
            if dep not in state:
                found = visit(dep, path + [dep])
                if found:
                    return found
        state[name] = 2
        return None

    for name in sorted(graph):
        if name not in state:
            found = visit(name, [name])
            if found:
                return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_indexer_modules_import_each_other_without_a_cycle():
    modules = _modules()
    graph = {name: _module_level_imports(tree) & set(modules) for name, tree in modules.items()}
    assert graph["build"] >= {"document", "mpwrite"}  # the walk sees relative imports
    assert _cycle(graph) is None


def test_no_indexer_module_is_imported_inside_a_function():
    inside = []
    for name, tree in _modules().items():
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(fn):
                    if _indexer_imports(node):
                        inside.append(f"{name}.{fn.name}: {ast.unparse(node)}")
    assert inside == []


def test_a_han_character_is_defined_in_one_place():
    boundary = re.compile(r"\\u4e00|\\u3400|0x4e00|0x3400", re.I)
    spelled = sorted(p.name for p in INDEXER.glob("*.py") if boundary.search(p.read_text(encoding="utf-8")))
    assert spelled == ["han.py", "segmenter.py"]  # ours, and jieba's block (U+4E00-U+9FD5)
    assert analysis.HAN_CLASS == han.HAN_CLASS == "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
    assert [analysis.has_han(t) for t in ("gpt-4", "显存", "ｶﾀｶﾅ", "\U00020000", "한국어")] == \
           [False, True, False, True, False]
    assert analysis.HAN_RUN_RE.findall("GPT-4 的参数，约1.8万亿") == ["的参数", "约", "万亿"]


def test_schemas_pickled_before_the_text_field_moved_out_of_codec_still_load():
    """Whoosh pickles the schema into every index's table of contents, with
    protocol 2, naming each class by its module."""
    data = pickle.dumps(build_schema(), protocol=2)
    assert b"cindexer.textfield\nInterningText" in data and b"cindexer.positions\nCompactPositions" in data
    old = data.replace(b"cindexer.textfield\n", b"cindexer.codec\n").replace(b"cindexer.positions\n",
                                                                            b"cindexer.codec\n")
    schema = pickle.loads(old)
    assert type(schema["body"]) is InterningText
    assert type(schema["body"].format) is CompactPositions
    assert schema.names() == build_schema().names()
