"""The site a corpus belongs to: which generator publishes it, and its settings.

zhsearch reads a site's *sources*, while its readers follow links into the
site its generator *built*.  A result link is right only if zhsearch applies
that generator's own rules for URLs (:mod:`indexer.permalinks`) and heading
ids (:mod:`indexer.anchors`), with the settings of that site.  This module
finds the site and reads those settings:

* **the site root** is the corpus folder or its nearest parent holding a
  generator's configuration, looking no higher than the git repository's
  root (a config above the repository belongs to something else);
* **YAML, TOML and JSON** configurations (Hexo's ``_config.yml``, Hugo's
  ``hugo.toml``/``config.yaml``/``config/_default/``, VuePress 1's
  ``config.yml``) are read with real parsers;
* **JavaScript/TypeScript** configurations (VuePress, VitePress) cannot be
  evaluated here, so a plain scan reads only the literal ``base``,
  ``cleanUrls`` and ``srcDir`` values; :class:`SiteOverrides` (the command
  line's ``--base-path`` and ``--clean-urls``) override what was read.

The resolved :class:`SiteConfig` is part of an index's identity: change the
generator or a setting that moves URLs or ids, and the next ``index`` run
rebuilds and says why.
"""

from __future__ import annotations

import json
import logging
import re
import tomllib
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import yaml

from .anchors import AnchorStyle

log = logging.getLogger(__name__)


class Generator(StrEnum):
    """A static site generator whose URLs and heading ids zhsearch reproduces."""

    VUEPRESS = "vuepress"  # VuePress 1 (and its vdoing theme)
    VUEPRESS2 = "vuepress2"
    VITEPRESS = "vitepress"
    HEXO = "hexo"
    HUGO = "hugo"
    #: no generator: the markdown files are served as they are (a git forge,
    #: a static file server): a file's URL is its path, ids as GitHub makes them
    PLAIN = "plain"


#: ``--generator auto``: detect it; a folder with no generator config is
#: treated as VuePress 1, which is what zhsearch always assumed (the embedded
#: corpus and the development collections come from VuePress sites).
AUTO = "auto"
FALLBACK = Generator.VUEPRESS
GENERATOR_CHOICES = (AUTO, *(g.value for g in Generator))

#: Heading ids of each generator's default markdown renderer.
DEFAULT_ANCHORS = {
    Generator.VUEPRESS: AnchorStyle.VUEPRESS,
    Generator.VUEPRESS2: AnchorStyle.VUEPRESS2,
    Generator.VITEPRESS: AnchorStyle.VITEPRESS,
    Generator.HEXO: AnchorStyle.HEXO,
    Generator.HUGO: AnchorStyle.HUGO,
    Generator.PLAIN: AnchorStyle.HUGO,  # Hugo's "github" ids are GitHub's
}

#: ``--anchor-style`` (the older flag) named a generator by its id style.
_ANCHOR_ALIASES = {s.value: g for g, s in DEFAULT_ANCHORS.items() if g is not Generator.PLAIN}


def parse_generator(value: str | Generator | None) -> Generator | None:
    """A generator from its name; ``None`` for ``auto`` or nothing.
    ``ValueError`` names the choices."""
    if value is None or isinstance(value, Generator):
        return value
    name = str(value).strip().lower()
    if name in ("", AUTO):
        return None
    if name in _ANCHOR_ALIASES:
        return _ANCHOR_ALIASES[name]
    try:
        return Generator(name)
    except ValueError:
        raise ValueError(f"unknown generator {value!r}; choose one of: {', '.join(GENERATOR_CHOICES)}") from None


@dataclass(frozen=True)
class SiteOverrides:
    """What the command line says about the site, over what its config says."""

    generator: Generator | None = None  # None: detect
    base: str | None = None  # URL path the site is served under (VuePress/VitePress ``base``)
    clean_urls: bool | None = None  # VitePress ``cleanUrls``
    anchors: AnchorStyle | None = None  # an explicit heading-id style


@dataclass(frozen=True)
class HexoOptions:
    """The parts of Hexo's ``_config.yml`` that decide URLs and heading ids."""

    permalink: str = ":year/:month/:day/:title/"
    permalink_defaults: tuple[tuple[str, str], ...] = ()
    new_post_name: str = ":title.md"
    source_dir: str = "source"
    trailing_index: bool = True
    trailing_html: bool = True
    default_category: str = "uncategorized"
    category_map: tuple[tuple[str, str], ...] = ()
    filename_case: int = 0
    post_asset_folder: bool = False
    use_slug_as_post_title: bool = False
    #: the config's time zone: Hexo reads post dates in it, then writes the
    #: permalink's :year… in the building machine's zone (zhsearch: its own)
    timezone: str = ""
    #: hexo-renderer-marked's smartypants (on by default): changes heading ids
    smartypants: bool = True


@dataclass(frozen=True)
class HugoLanguage:
    code: str
    content_dir: str | None  # None: the site's contentDir (translation by file name)
    weight: int = 0


@dataclass(frozen=True)
class HugoOptions:
    """The parts of Hugo's configuration that decide URLs (keys are case-insensitive in Hugo)."""

    content_dir: str = "content"
    permalinks: tuple[tuple[str, str], ...] = ()  # section (or "page:section") → pattern
    ugly_urls: bool = False
    path_to_lower: bool = True  # not disablePathToLower
    default_language: str = "en"
    default_language_in_subdir: bool = False
    languages: tuple[HugoLanguage, ...] = ()

    @property
    def multilingual(self) -> bool:
        return len(self.languages) > 1


@dataclass(frozen=True)
class SiteConfig:
    """Everything that decides the URL and heading ids of an article."""

    generator: Generator
    #: how this was decided: the config file read, or why none was
    source: str = "default"
    #: the site root (where the config is); None for a folder with no config
    root: str | None = None
    #: the corpus folder relative to the generator's content folder ("" when
    #: it is that folder or not inside it) ...
    corpus_in_content: str = ""
    #: ... or the content folder relative to the corpus, when the corpus is
    #: above it (the whole Hugo site as corpus: "content")
    content_in_corpus: str = ""
    #: URL path the site is served under, "/" or "/blog/"
    base: str = "/"
    #: VitePress ``cleanUrls``: ``guide/intro.md`` → ``/guide/intro``
    clean_urls: bool = False
    anchors: AnchorStyle = AnchorStyle.VUEPRESS
    #: VuePress 1 ``permalink`` pattern of the site (YAML/TOML config only)
    vuepress_permalink_pattern: str | None = None
    hexo: HexoOptions | None = None
    hugo: HugoOptions | None = None
    notes: tuple[str, ...] = field(default=(), compare=False)

    def identity(self) -> dict[str, Any]:
        """What of this config is part of the index identity: every setting
        that moves a URL or an id (not where the site lives on disk, nor the
        heading-id style: the index identity records that once, as "anchors")."""
        d = asdict(self)
        for key in ("source", "root", "notes", "anchors"):
            d.pop(key)
        d["generator"] = self.generator.value
        return json.loads(json.dumps(d))  # tuples → lists, as the stored meta has them

    def describe(self) -> str:
        """One line for the user: what was detected, from where."""
        extra = []
        if self.base != "/":
            extra.append(f"base {self.base}")
        if self.clean_urls:
            extra.append("clean URLs")
        return f"{self.generator.value} ({self.source}{', ' + ', '.join(extra) if extra else ''})"


# ------------------------------------------------------------- detection

_JS_EXTS = (".ts", ".js", ".mts", ".mjs", ".cts", ".cjs")
_HUGO_FILES = ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json", "config.toml", "config.yaml", "config.yml",
               "config.json")


def _up_to_git_root(start: Path):
    """``start`` and its parents, up to and including the first that holds
    ``.git`` (a site's files stop at its repository)."""
    for folder in (start, *start.parents):
        yield folder
        if (folder / ".git").exists():
            return


def _dependencies(pkg: dict | None) -> dict:
    """A package.json's dependencies and devDependencies together."""
    return {**(pkg.get("dependencies") or {}), **(pkg.get("devDependencies") or {})} if pkg else {}


def find_site(corpus: Path) -> tuple[Generator, Path, Path] | None:
    """``(generator, site root, config file or folder)`` of the nearest
    generator config at or above ``corpus``, stopping at the git root."""
    for folder in _up_to_git_root(Path(corpus).resolve()):
        found = _config_in(folder)
        if found:
            return found
    return None


def _config_in(folder: Path) -> tuple[Generator, Path, Path] | None:
    for ext in _JS_EXTS:
        if (folder / ".vitepress" / f"config{ext}").is_file():
            return Generator.VITEPRESS, folder, folder / ".vitepress" / f"config{ext}"
    for ext in (*_JS_EXTS, ".yml", ".yaml", ".toml"):
        cfg = folder / ".vuepress" / f"config{ext}"
        if cfg.is_file():
            return _vuepress_version(folder, cfg), folder, cfg
    if (folder / "_config.yml").is_file() and _looks_like_hexo(folder):
        return Generator.HEXO, folder, folder / "_config.yml"
    for name in _HUGO_FILES:
        if (folder / name).is_file():
            return Generator.HUGO, folder, folder / name
    if (folder / "config" / "_default").is_dir():
        return Generator.HUGO, folder, folder / "config" / "_default"
    return None


def _looks_like_hexo(folder: Path) -> bool:
    """A ``_config.yml`` is Hexo's when the folder has Hexo's layout or its
    package.json names hexo (Jekyll uses the same file name)."""
    if (folder / "scaffolds").is_dir() or (folder / "source" / "_posts").is_dir():
        return True
    pkg = _read_json(folder / "package.json")
    return "hexo" in _dependencies(pkg) or "hexo" in (pkg or {})


_V2_MARKERS = re.compile(r"defineUserConfig|@vuepress/(?:bundler-|theme-default|plugin-)|vuepress-theme-hope|"
                         r"from\s+['\"]vuepress['\"]|viteBundler|webpackBundler")


def _vuepress_version(site_root: Path, config: Path) -> Generator:
    """VuePress 1 or 2: the ``vuepress`` version a package.json asks for
    (between the site and the git root), else the config's imports."""
    for folder in _up_to_git_root(site_root):
        pkg = _read_json(folder / "package.json")
        if pkg:
            deps = _dependencies(pkg)
            version = str(deps.get("vuepress") or deps.get("vuepress-vite") or deps.get("vuepress-webpack") or "")
            if "vuepress-theme-vdoing" in deps or re.match(r"[\^~>=v ]*[01]\.", version):
                return Generator.VUEPRESS
            if version and (re.match(r"[\^~>=v ]*2", version) or "next" in version):
                return Generator.VUEPRESS2
    try:
        text = config.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return Generator.VUEPRESS
    return Generator.VUEPRESS2 if _V2_MARKERS.search(text) else Generator.VUEPRESS


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _read_data(path: Path) -> dict:
    """A YAML, TOML or JSON file as a mapping (``ValueError`` when unreadable)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from None
    try:
        if path.suffix == ".toml":
            data = tomllib.loads(text)
        elif path.suffix == ".json":
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    except Exception as exc:  # PyYAML, tomllib and json each raise their own
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"cannot parse {path}: {first}") from None
    return data if isinstance(data, dict) else {}


def scan_js_config(text: str) -> dict[str, Any]:
    """What a plain scan can read of a JS/TS config: literal ``base``,
    ``srcDir`` (strings) and ``cleanUrls`` (a boolean).  Nothing is
    evaluated: a value computed in code is not seen (override it with the
    command line's flags)."""
    text = _JS_COMMENT_RE.sub(" ", text)
    out: dict[str, Any] = {}
    for key in ("base", "srcDir"):
        m = re.search(rf"(?<![\w.$]){key}\s*:\s*(['\"`])([^'\"`\n]*)\1", text)
        if m:
            out[key] = m.group(2)
    m = re.search(r"(?<![\w.$])cleanUrls\s*:\s*(true|false)\b", text)
    if m:
        out["cleanUrls"] = m.group(1) == "true"
    return out


# block comments, then line comments not preceded by ':' (an URL's //)
_JS_COMMENT_RE = re.compile(r"/\*(?:[^*]|\*(?!/))*\*/|(?<![:'\"\w])//[^\n]*")


def _clean_base(value: Any) -> str:
    """``blog`` / ``/blog`` / ``/blog/`` → ``/blog/``; nothing → ``/``."""
    s = str(value or "").strip().strip("/")
    return f"/{s}/" if s else "/"


def _lower_keys(d: Any) -> Any:
    if isinstance(d, dict):
        return {str(k).lower(): _lower_keys(v) for k, v in d.items()}
    return d


def detect_site(corpus: Path, overrides: SiteOverrides = SiteOverrides()) -> SiteConfig:
    """The corpus's site: its generator (``overrides.generator``, else the
    config found), its settings, and the overrides applied.

    A config that cannot be parsed raises ``ValueError`` with the file and
    the reason: guessing URLs would silently break every link."""
    corpus = Path(corpus)
    found = find_site(corpus)
    gen = overrides.generator
    if found and (gen is None or gen is found[0] or {gen, found[0]} <= {Generator.VUEPRESS, Generator.VUEPRESS2}):
        gen = gen or found[0]
        site = _read_site(gen, found[1], found[2], corpus)
    elif gen is not None:
        site = SiteConfig(gen, source="--generator", anchors=DEFAULT_ANCHORS[gen])
        if gen is Generator.HEXO:
            site = replace(site, hexo=HexoOptions(), corpus_in_content=_guess_in_content(corpus, "source"))
        elif gen is Generator.HUGO:
            site = replace(site, hugo=HugoOptions(), corpus_in_content=_guess_in_content(corpus, "content"))
    else:
        site = SiteConfig(FALLBACK, source="no site config found: VuePress 1 assumed",
                          anchors=DEFAULT_ANCHORS[FALLBACK])
    if overrides.base is not None:
        site = replace(site, base=_clean_base(overrides.base))
    if overrides.clean_urls is not None:
        site = replace(site, clean_urls=overrides.clean_urls)
    if overrides.anchors is not None:
        site = replace(site, anchors=overrides.anchors)
    return site


def _guess_in_content(corpus: Path, content_dir: str) -> str:
    """Without a config: a corpus that is ``source/`` or ``content/`` (or
    below it) is taken to be in the generator's content folder."""
    parts = Path(corpus).resolve().parts
    if content_dir in parts:
        i = len(parts) - 1 - parts[::-1].index(content_dir)
        return "/".join(parts[i + 1:])
    return ""


def _relative(corpus: Path, content: Path) -> dict[str, str]:
    """Where the corpus is with respect to the generator's content folder:
    ``corpus_in_content`` (corpus at or below it) or ``content_in_corpus``
    (corpus above it), as :class:`SiteConfig` fields."""
    c, t = Path(corpus).resolve(), Path(content).resolve()
    try:
        return {"corpus_in_content": c.relative_to(t).as_posix().strip(".")}
    except ValueError:
        pass
    try:
        return {"content_in_corpus": t.relative_to(c).as_posix()}
    except ValueError:
        return {}


def _read_site(gen: Generator, root: Path, config: Path, corpus: Path) -> SiteConfig:
    rel_cfg = config.relative_to(root).as_posix()
    if gen is Generator.HEXO:
        return _hexo_site(root, config, corpus)
    if gen is Generator.HUGO:
        return _hugo_site(root, config, corpus)
    if config.suffix in _JS_EXTS:
        values = scan_js_config(config.read_text(encoding="utf-8", errors="replace"))
        note = f"{rel_cfg} (plain scan: base, cleanUrls, srcDir)"
    else:
        values = _read_data(config)
        note = rel_cfg
    content = root / str(values.get("srcDir") or "") if gen is Generator.VITEPRESS else root
    clean = bool(values.get("cleanUrls")) if gen is Generator.VITEPRESS else False
    pattern = values.get("permalink") if gen is Generator.VUEPRESS and isinstance(values.get("permalink"), str) else None
    return SiteConfig(gen, source=note, root=str(root), **_relative(corpus, content),
                      base=_clean_base(values.get("base")), clean_urls=clean, anchors=DEFAULT_ANCHORS[gen],
                      vuepress_permalink_pattern=pattern)


def _pairs(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        return ()
    return tuple(sorted((str(k), str(v)) for k, v in value.items() if v is not None and not isinstance(v, dict)))


def _hexo_site(root: Path, config: Path, corpus: Path) -> SiteConfig:
    data = _read_data(config)
    pretty = data.get("pretty_urls") if isinstance(data.get("pretty_urls"), dict) else {}
    marked = data.get("marked") if isinstance(data.get("marked"), dict) else {}
    opts = HexoOptions(
        permalink=str(data.get("permalink") or HexoOptions.permalink),
        permalink_defaults=_pairs(data.get("permalink_defaults")),
        new_post_name=str(data.get("new_post_name") or HexoOptions.new_post_name),
        source_dir=str(data.get("source_dir") or "source").strip("/"),
        trailing_index=pretty.get("trailing_index", True) is not False,
        trailing_html=pretty.get("trailing_html", True) is not False,
        default_category=str(data.get("default_category") or "uncategorized"),
        category_map=_pairs(data.get("category_map")),
        filename_case=int(data.get("filename_case") or 0),
        post_asset_folder=bool(data.get("post_asset_folder")),
        use_slug_as_post_title=bool(data.get("use_slug_as_post_title")),
        timezone=str(data.get("timezone") or ""),
        smartypants=marked.get("smartypants", True) is not False,
    )
    modify = marked.get("modifyAnchors", 0)
    anchors = {1: AnchorStyle.HEXO_LOWER, 2: AnchorStyle.HEXO_UPPER}.get(modify, AnchorStyle.HEXO)
    base = _clean_base(data.get("root"))
    return SiteConfig(Generator.HEXO, source=config.relative_to(root).as_posix(), root=str(root),
                      **_relative(corpus, root / opts.source_dir), base=base,
                      clean_urls=not opts.trailing_html, anchors=anchors, hexo=opts)


def _hugo_config(root: Path, config: Path) -> dict:
    """Hugo's configuration as one lower-cased mapping: a root file, or the
    ``config/_default/`` folder (``hugo.toml`` plus files named after a
    top-level key, e.g. ``permalinks.toml``, ``languages.yaml``)."""
    if config.is_file():
        return _lower_keys(_read_data(config))
    merged: dict = {}
    for f in sorted(config.iterdir()):
        if f.suffix not in (".toml", ".yaml", ".yml", ".json") or not f.is_file():
            continue
        data = _lower_keys(_read_data(f))
        if f.stem in ("hugo", "config"):
            merged = {**merged, **data}
        else:
            merged[f.stem.lower()] = data
    return merged


_AUTO_ID_TYPES = {"github": AnchorStyle.HUGO, "github-ascii": AnchorStyle.HUGO_ASCII,
                  "blackfriday": AnchorStyle.HUGO_BLACKFRIDAY}


def _hugo_site(root: Path, config: Path, corpus: Path) -> SiteConfig:
    data = _hugo_config(root, config)
    langs = []
    for code, spec in (data.get("languages") or {}).items():
        spec = spec if isinstance(spec, dict) else {}
        cdir = spec.get("contentdir")
        langs.append(HugoLanguage(str(code), str(cdir).strip("/") if cdir else None, int(spec.get("weight") or 0)))
    default_lang = str(data.get("defaultcontentlanguage") or "en").lower()
    perms = data.get("permalinks") if isinstance(data.get("permalinks"), dict) else {}
    flat: dict[str, str] = {}
    for key, value in perms.items():
        if isinstance(value, dict):  # Hugo 0.112+: [permalinks.page] posts = ...
            for section, pattern in value.items():
                flat[f"{key}:{section}"] = str(pattern)
        else:
            flat[str(key)] = str(value)
    opts = HugoOptions(
        content_dir=str(data.get("contentdir") or "content").strip("/"),
        permalinks=tuple(sorted(flat.items())),
        ugly_urls=bool(data.get("uglyurls")),
        path_to_lower=not bool(data.get("disablepathtolower")),
        default_language=default_lang,
        default_language_in_subdir=bool(data.get("defaultcontentlanguageinsubdir")),
        languages=tuple(sorted(langs, key=lambda lang: (lang.weight, lang.code))),
    )
    parser = (((data.get("markup") or {}).get("goldmark") or {}).get("parser") or {})
    anchors = _AUTO_ID_TYPES.get(str(parser.get("autoheadingidtype") or "github").lower(), AnchorStyle.HUGO)
    base = _clean_base(urlsplit(str(data.get("baseurl") or "/")).path)
    content = opts.content_dir
    # a corpus inside a language's own content folder (content/zh) is located from the site root
    return SiteConfig(Generator.HUGO, source=config.relative_to(root).as_posix(), root=str(root),
                      **_relative(corpus, root / content), base=base, anchors=anchors, hugo=opts)


def content_path(site: SiteConfig, rel: str) -> str | None:
    """An article's path relative to the generator's content folder (``rel``
    is relative to the corpus); None when it lies outside it (a README at
    the root of a Hugo site is no page of the site)."""
    if site.content_in_corpus:
        prefix = site.content_in_corpus.rstrip("/") + "/"
        return rel[len(prefix):] if rel.startswith(prefix) else None
    return f"{site.corpus_in_content}/{rel}" if site.corpus_in_content else rel


_STYLE_GENERATORS = {
    AnchorStyle.VUEPRESS: Generator.VUEPRESS, AnchorStyle.VUEPRESS2: Generator.VUEPRESS2,
    AnchorStyle.VITEPRESS: Generator.VITEPRESS,
    AnchorStyle.HUGO: Generator.HUGO, AnchorStyle.HUGO_ASCII: Generator.HUGO,
    AnchorStyle.HUGO_BLACKFRIDAY: Generator.HUGO, AnchorStyle.HEXO: Generator.HEXO,
    AnchorStyle.HEXO_LOWER: Generator.HEXO, AnchorStyle.HEXO_UPPER: Generator.HEXO,
}


def generator_for_style(style: AnchorStyle | str | None) -> Generator:
    """The generator whose markdown renderer makes heading ids in this style."""
    return _STYLE_GENERATORS[AnchorStyle.parse(style)]


def site_for_style(style: AnchorStyle | str | None) -> SiteConfig:
    """The site a bare heading-id style implies when nothing else is known
    (a corpus that is the generator's content folder, default settings):
    what :func:`indexer.article.parse_article` assumes without a site."""
    style = AnchorStyle.parse(style)
    gen = generator_for_style(style)
    return SiteConfig(gen, source="--anchor-style", anchors=style,
                      hexo=HexoOptions() if gen is Generator.HEXO else None,
                      hugo=HugoOptions() if gen is Generator.HUGO else None)


def join_url(base_url: str | None, permalink: str, anchor: str | None = None) -> str:
    """The link a result gives: ``base_url`` + ``permalink`` (+ ``#anchor``),
    percent-encoded where needed.  A base URL that already ends with the
    site's base path (``https://x.github.io/blog`` for ``/blog/x/``) does not
    repeat it: ``ZHSEARCH_BASE_URL`` used to be the only way to say it."""
    link = quote(permalink or "/", safe="/:?=&;%~+!$'()*,@")
    if not link.startswith("/"):
        link = "/" + link
    base = (base_url or "").rstrip("/")
    prefix = urlsplit(base).path.rstrip("/") if base else ""
    if prefix and (link == prefix or link.startswith(prefix + "/")):
        link = link[len(prefix):] or "/"
    url = base + link
    if anchor:
        url += "#" + quote(anchor, safe="")
    return url
