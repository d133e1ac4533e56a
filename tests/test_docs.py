"""The README is the user's manual, and these tests keep it true to the code
(the way sqlite-utils tests its documentation): every option of every
``zhsearch`` command and every ``ZHSEARCH_*`` variable the code reads is
described, each command's usage block lists exactly its options (with the
defaults the code has), every ``zhsearch`` command line in an example parses,
no example needs a file a clone does not have, and every link between the
documents leads somewhere."""

from __future__ import annotations

import re
import shlex
from itertools import pairwise
from pathlib import Path

import click
import pytest

from tests.conftest import ROOT
from zhsearch.cli import main
from zhsearch.settings import SOURCES

README = ROOT / "README.md"
DOCS = [README, *sorted((ROOT / "docs").glob("*.md"))]
PACKAGES = ("indexer", "search", "web", "zhsearch")
COMMANDS = sorted(main.commands)


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def options(command: click.Command) -> list[str]:
    """The command's long options as a user types them (``--clean-urls`` and ``--no-clean-urls``)."""
    return [o for p in command.params if isinstance(p, click.Option) and not p.hidden
            for o in (*p.opts, *p.secondary_opts) if o.startswith("--") and o != "--help"]


def code_blocks(text: str, lang: str) -> list[tuple[str, str]]:
    """``(block, the text before it)`` for every fenced block of ``lang``."""
    return [(m.group(1), text[:m.start()]) for m in re.finditer(rf"(?ms)^```{lang}\n(.*?)^```", text)]


def usage_block(name: str) -> str:
    """The first ``sh`` block of the README section ``### `zhsearch NAME```."""
    text = read(README)
    start = text.index(f"### `zhsearch {name}`\n")
    return code_blocks(text[start:], "sh")[0][0]


def mentioned(option: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text) is not None


# ------------------------------------------------------ options, variables

@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_of_every_command_is_in_the_readme(name):
    readme = read(README)
    missing = [o for o in options(main.commands[name]) if not mentioned(o, readme)]
    assert not missing, f"zhsearch {name}: {missing} not described in README.md"


def test_the_group_options_are_in_the_readme():
    assert all(mentioned(o, read(README)) for o in options(main))


def environment_variables() -> set[str]:
    """Every ``ZHSEARCH_*`` name the packages' code mentions, and those of the settings table."""
    found = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found |= set(re.findall(r"\bZHSEARCH_[A-Z0-9_]*[A-Z0-9]\b", read(path)))
    from_settings = {env for env, _flag in SOURCES.values() if env}
    assert from_settings <= found  # the grep sees what the settings read
    return found


def test_every_environment_variable_the_code_reads_is_in_the_readme():
    readme = read(README)
    missing = sorted(v for v in environment_variables() if v not in readme)
    assert not missing, f"not described in README.md: {missing}"


def test_every_setting_with_a_flag_names_a_real_option():
    """The settings table (``SOURCES``) and the CLI agree on the flags' names."""
    every = {o for name in COMMANDS for o in options(main.commands[name])}
    assert {flag for _env, flag in SOURCES.values() if flag} <= every


# ------------------------------------------------------------ usage blocks

@pytest.mark.parametrize("name", COMMANDS)
def test_each_usage_block_lists_exactly_the_commands_options(name):
    command, block = main.commands[name], usage_block(name)
    assert block.startswith(f"zhsearch {name} ")
    args = [p.name.upper() for p in command.params if isinstance(p, click.Argument)]
    assert block.split()[2:2 + len(args)] == args  # the arguments come first, in order
    listed = re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", block)
    assert sorted(set(listed)) == sorted(options(command)), block
    assert len(listed) == len(set(listed)), f"an option listed twice: {block}"


@pytest.mark.parametrize("name", COMMANDS)
def test_the_values_in_a_usage_block_are_the_real_defaults_and_choices(name):
    """``[--port 8000]`` must be the default, ``[--sort relevance|date]`` the choices;
    an upper-case word (``DIR``, ``N``) is a placeholder."""
    by_flag = {o: p for p in main.commands[name].params if isinstance(p, click.Option) for o in p.opts}
    tokens = usage_block(name).replace("[", " ").replace("]", " ").split()
    for flag, value in pairwise(tokens):
        if not flag.startswith("--") or value.startswith("--") or value in ("|", "...") or value.isupper():
            continue
        param = by_flag[flag]
        if "|" in value:
            assert value.split("|") == list(param.type.choices), (flag, value)
        else:
            assert value == str(param.default), f"{flag}: README says {value}, the default is {param.default}"


# ---------------------------------------------------------------- examples

def command_lines(text: str):
    """The arguments of every ``zhsearch`` command in the ``sh`` examples of
    ``text`` (continuation lines joined; usage blocks, with their ``[``, left
    out) and in its inline code."""
    for block, _before in code_blocks(text, "sh"):
        for line in block.replace("\\\n", " ").splitlines():
            lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
            lexer.whitespace_split, lexer.commenters = True, "#"
            words = list(lexer)
            # one command at a time: split at && ; | || ( ), drop redirections and their targets
            commands, current, skip = [], [], False
            for word in words:
                if word in ("&&", ";", "|", "||", "(", ")", "$("):
                    commands.append(current)
                    current = []
                elif word in (">", ">>", "<"):
                    skip = True
                elif skip:
                    skip = False
                else:
                    current.append(word)
            for args in [*commands, current]:
                starts = [i for i, w in enumerate(args) if w == "zhsearch" or w.endswith("/bin/zhsearch")]
                if starts and not any(w.startswith("[") for w in args):
                    yield args[starts[0] + 1:]
    prose = re.sub(r"(?ms)^```.*?^```", "", text)
    for span in re.findall(r"`zhsearch ([^`\n]+)`", prose):
        args = shlex.split(span)
        if not any(w.isupper() for w in args):  # `zhsearch -v COMMAND` is a pattern, not an example
            yield args


def test_every_zhsearch_command_line_in_the_docs_parses():
    """No example uses an option or a command zhsearch does not have."""
    seen = 0
    for doc in DOCS:
        for args in command_lines(read(doc)):
            name = next((a for a in args if not a.startswith("-")), None)  # the group's only option is -v
            assert name in main.commands, f"{doc.name}: zhsearch {' '.join(args)}"
            command = main.commands[name]
            try:
                command.make_context(name, args[args.index(name) + 1:])
            except click.BadParameter:
                pass  # a file of the example that is not here, a required option left to the prose
            except click.UsageError as exc:  # an unknown option, a missing value, an extra argument
                pytest.fail(f"{doc.name}: zhsearch {' '.join(args)}: {exc}")
            seen += 1
    assert seen >= 20  # the examples were found at all


def test_readme_examples_need_nothing_a_clone_lacks():
    """A clone has no ``../shared`` (the development collections beside the
    project): README examples use the embedded corpus or the reader's own folder."""
    for block, _before in code_blocks(read(README), r"\w*"):
        assert "../shared" not in block, block


def test_the_readme_opens_with_what_zhsearch_is_then_the_two_commands():
    text = read(README)
    intro, rest = text.split("```sh\n", 1)
    assert "full-text search engine for folders of Chinese markdown articles" in intro
    assert "\n## " not in intro  # nothing comes before them but the title and the paragraph
    assert rest.split("```")[0].splitlines() == [
        "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/zhsearch serve",
        "bash .ci/run",
    ]
    assert "bash .ci/run" in read(ROOT / ".ci" / "run")  # the CI runs that same command


# ------------------------------------------------------------------- links

def slugs(text: str) -> set[str]:
    """The ids GitHub gives the headings of a markdown text (outside code blocks)."""
    prose = re.sub(r"(?ms)^```.*?^```", "", text)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
            for h in re.findall(r"(?m)^#{1,6} (.+)$", prose)}


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_link_between_the_docs_leads_somewhere(doc):
    prose = re.sub(r"`[^`\n]*`", "", re.sub(r"(?ms)^```.*?^```", "", read(doc)))
    for target in re.findall(r"\]\(([^)\s]+)\)", prose):
        if re.match(r"^[a-z]+:", target):
            continue  # https:, mailto:
        path, _, anchor = target.partition("#")
        dest = (doc.parent / path).resolve() if path else doc
        assert dest.exists(), f"{doc.name}: {target}"
        if anchor:
            assert anchor in slugs(read(dest)), f"{doc.name}: {target}: no such heading"
