"""``zhsearch``: a thin command line over the indexer, search and web packages.

Every subcommand takes ``--index DIR`` (and ``--corpus DIR`` where it reads
articles); ``ZHSEARCH_INDEX`` / ``ZHSEARCH_CORPUS`` set the defaults.

The query side (``search.engine``, ~60 ms to import) and the web package
(Flask, waitress) are imported inside the commands that use them, for start-up
speed: ``zhsearch index`` after an edit should not pay for loading a search
engine and a web framework it does not use (``tests/test_cli.py`` checks).
"""

from __future__ import annotations

import html
import json
import logging
import os
import re
import signal
import sys
import threading
from functools import partial
from pathlib import Path

import click

from indexer import embeddings
from indexer.analysis import Analyzer
from indexer.build import IndexConfig, interrupted_message, recorded_identity, update_index
from indexer.filenames import display
from indexer.site import GENERATOR_CHOICES
from indexer.store import IndexUnavailable, live_name, read_current
from indexer.watch import LiveIndexer, serve_watch
from indexer.watch import watch as watch_corpus
from indexer.watchstate import WatchStatus
from indexer.words import MIN_COUNT, discover
from search.checklinks import BuiltSite, Problem, check_links
from zhsearch.settings import MIN_ADMIN_TOKEN, Settings

log = logging.getLogger("zhsearch")

#: The defaults of the options that are settings.  An option that also has an
#: environment variable keeps click's default None (``Settings.load`` must tell
#: the flag from the variable) and names its default in its help; the others
#: take the setting's default as their click default.
DEFAULTS = Settings()

index_option = click.option("--index", "index_dir", type=click.Path(file_okay=False),
                            help=f"Index directory [env ZHSEARCH_INDEX, default ./{DEFAULTS.index}].")
synonyms_option = click.option("--synonyms", type=click.Path(dir_okay=False),
                               help="Synonyms file [env ZHSEARCH_SYNONYMS, default CORPUS/synonyms.txt].")
corpus_option = click.option("--corpus", type=click.Path(file_okay=False),
                             help=f"Folder of markdown articles [env ZHSEARCH_CORPUS, default ./{DEFAULTS.corpus}].")

def site_options(f):
    """``--generator`` (and its older alias ``--anchor-style``), ``--base-path``
    and ``--clean-urls``: the site whose URLs and heading ids results must match."""
    f = click.option("--clean-urls/--no-clean-urls", "clean_urls", default=None,
                     help="VitePress cleanUrls: links without .html (over the site's config) "
                          "[env ZHSEARCH_CLEAN_URLS].")(f)
    f = click.option("--base-path", default=None, metavar="PATH",
                     help="URL path the site is served under, e.g. /blog/ (over the site config's "
                          "base/root/baseURL) [env ZHSEARCH_BASE_PATH].")(f)
    f = click.option("--anchor-style", "anchor_style", default=None, hidden=False,
                     type=click.Choice(["vuepress", "vuepress2", "hugo", "hexo"], case_sensitive=False),
                     help="Older name of --generator "
                          "[env ZHSEARCH_ANCHOR_STYLE].")(f)
    f = click.option("--generator", default=None, type=click.Choice(GENERATOR_CHOICES, case_sensitive=False),
                     help="The site generator whose URLs and heading ids result links must match; auto "
                          "(default) reads the site's config (the corpus folder or a parent, up to the git "
                          "root) and falls back to vuepress [env ZHSEARCH_GENERATOR]; a change rebuilds "
                          "the index.")(f)
    return f


#: The settings a command that updates the index uses (see ``Settings.load(uses=…)``):
#: a malformed variable that only ``serve`` reads does not stop it.
INDEXING = ("corpus", "index", "userdict", "generator", "anchor_style", "base_path", "clean_urls", "segmenter",
            "git_timeout", "embeddings")


analytics_option = click.option(
    "--analytics", "analytics_file", type=click.Path(dir_okay=False), default=None,
    help="SQLite file of the analytics [env ZHSEARCH_ANALYTICS, default beside the index: "
         "INDEX.analytics.sqlite3].")


def _settings(**kw) -> Settings:
    """:meth:`Settings.load`, with a malformed value as a usage error, not a traceback."""
    try:
        return Settings.load(**kw)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(levelname)s %(message)s", stream=sys.stderr)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    logging.getLogger("markdown_it").setLevel(logging.WARNING)  # floods -v otherwise
    logging.getLogger("watchfiles").setLevel(logging.WARNING)  # "1 change detected": our own report says more


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def main(verbose: bool) -> None:
    """Full-text search for folders of Chinese markdown articles."""
    _setup_logging(verbose)


# ------------------------------------------------------------------ index

@main.command("index")
@corpus_option
@index_option
@click.option("--rebuild", is_flag=True, help="Build a complete new index and swap it in atomically.")
@click.option("--wait", type=float, default=0.0, show_default=True,
              help="Seconds to wait for another running indexer before giving up.")
@click.option("--userdict", type=click.Path(dir_okay=False),
              help="jieba user dictionary [env ZHSEARCH_USERDICT, default CORPUS/userdict.txt].")
@click.option("--workers", type=int, default=IndexConfig.workers,
              help="Processes for a full build (default: one per core).")
@site_options
@click.option("--watch", is_flag=True,
              help="Then keep watching the corpus and update the index whenever an article changes (Ctrl-C stops).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (with --watch: one line per update).")
def index_cmd(corpus, index_dir, rebuild, wait, userdict, workers, generator, anchor_style, base_path, clean_urls,
              watch, as_json):
    """Bring the index up to date with the corpus (incremental by default).

    Adds new articles, re-indexes changed ones (by content hash), deletes
    removed ones and leaves the rest alone; prints what it did.  With
    --watch it then follows the corpus, printing what each update did.
    """
    settings = _settings(corpus=corpus, index=index_dir, userdict=userdict, anchor_style=anchor_style,
                         generator=generator, base_path=base_path, clean_urls=clean_urls, uses=INDEXING)
    cfg = settings.index_config(workers)
    bar = _ProgressBar() if sys.stderr.isatty() and not as_json else None
    live_before = live_name(cfg.index)
    try:
        report = update_index(cfg, rebuild=rebuild, wait=wait, progress=bar)
    except IndexUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise click.ClickException(f"indexing failed: {exc.strerror or exc}{where}; "
                                   "the live index was not changed") from None
    except (RuntimeError, ValueError) as exc:  # ValueError: an unreadable site config
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        click.echo(f"\n{interrupted_message(cfg.index, live_before)}", err=True)
        sys.exit(130)
    finally:
        if bar:
            bar.close()
    if as_json:
        click.echo(json.dumps(_report_dict(report), ensure_ascii=False, indent=None if watch else 1))
    else:
        _print_report(report)
    _embed(settings)
    if watch:
        _watch_index(cfg, as_json)


def _embed(settings: Settings) -> None:
    """After the lexical publish: the passage vectors questions use, when the
    zhsearch[embeddings] extra is installed and ZHSEARCH_EMBEDDINGS is not off
    (on stderr: --json's stdout is the report)."""
    rep = embeddings.embed_if_available(settings.index) if settings.embeddings else None
    if rep is not None and rep.changed:
        click.echo(rep.describe(), err=True)


def _report_dict(report, skipped=None, warnings=None) -> dict:
    skipped = report.skipped if skipped is None else skipped
    warnings = report.warnings if warnings is None else warnings
    return {
        "added": report.added, "updated": report.updated, "deleted": report.deleted,
        "unchanged": report.unchanged, "skipped": [{"path": p, "reason": r} for p, r in skipped],
        "warnings": [{"path": p, "warning": w} for p, w in warnings],
        "notes": [text for _, text in report.notes],
        "rebuilt": report.rebuilt, "rebuild_reason": report.rebuild_reason, "site": report.site,
        "documents": report.total, "generation": report.generation,
        "elapsed_s": round(report.elapsed, 3),
    }


def _watch_index(cfg, as_json: bool) -> None:
    """``zhsearch index --watch``: follow the corpus until Ctrl-C (exit 0; 130
    when it lands inside an update, saying whether that left the index unchanged)
    or SIGTERM (the update in progress finishes first)."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())

    def show(report, skipped, warnings) -> None:
        if not (report.changed or skipped or warnings):
            return  # a touch, an editor's temporary file: nothing to tell
        if as_json:
            click.echo(json.dumps(_report_dict(report, skipped, warnings), ensure_ascii=False))
        else:
            _print_report(report, skipped, warnings)

    indexer = LiveIndexer(cfg)
    try:
        # catch up with what changed since the update above, and say "watching"
        # only once a save is sure to be seen
        watch_corpus(indexer, stop=stop, on_update=show, catch_up=True,
              on_ready=lambda: click.echo(f"watching {cfg.corpus} for changes (Ctrl-C to stop)", err=True))
    except KeyboardInterrupt:
        if indexer.busy:
            click.echo(f"\n{interrupted_message(cfg.index, indexer.live_before)}", err=True)
            sys.exit(130)
    click.echo("stopped watching", err=True)


def _print_report(report, skipped=None, warnings=None) -> None:
    """What an update did; ``skipped``/``warnings``: only these (a watch tells each
    once; the watch leaves in ``report.notes`` only the notes not told before)."""
    for path, reason in report.skipped if skipped is None else skipped:
        click.echo(f"skipped  {display(path)}: {reason}", err=True)
    for path, warning in report.warnings if warnings is None else warnings:
        click.echo(f"warning  {display(path)}: {warning}", err=True)
    for _, note in report.notes:
        click.echo(f"warning  {note}", err=True)
    if report.rebuilt and report.rebuild_reason:
        click.echo(f"full build: {report.rebuild_reason}")
        if report.site:
            click.echo(f"site: {report.site}")
    click.echo(
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.deleted)} deleted, "
        f"{report.unchanged} unchanged, {len(report.skipped)} skipped; "
        f"{report.total} articles in {report.index} ({report.elapsed:.2f} s)"
    )


class _ProgressBar:
    """A one-line progress bar on a terminal; silent in a pipe."""

    def __init__(self) -> None:
        self._bar = None
        self._shown = 0

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            self._bar = click.progressbar(length=total, label="indexing", file=sys.stderr)
            self._bar.__enter__()
        if done > self._shown:
            self._bar.update(done - self._shown)
            self._shown = done

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


# ----------------------------------------------------------------- search

@main.command("search", context_settings={"ignore_unknown_options": True})
@click.argument("query")
@index_option
@click.option("--page", type=int, default=1, show_default=True)
@click.option("--per-page", type=int, default=10, show_default=True)
@click.option("--tag", multiple=True, help="Only articles with this tag (repeatable).")
@click.option("--category", multiple=True, help="Only articles in this category (repeatable).")
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the result page as JSON.")
@synonyms_option
def search_cmd(query, index_dir, page, per_page, tag, category, sort, as_json, synonyms):
    """Search the index and print ranked results with snippets."""
    from search.engine import Engine, search  # lazily, for start-up speed (see the module's docstring)
    from search.models import Filters

    settings = _settings(index=index_dir, synonyms=synonyms, uses=("index", "synonyms", "embeddings"))
    try:
        result = search(Engine(settings.index, settings.synonyms, semantic=settings.embeddings), query, page=page, per_page=per_page,
                        filters=Filters(tags=tag, categories=category), sort=sort)
    except IndexUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
        return
    _print_results(result)


def _print_results(result) -> None:
    def plain(s: str) -> str:
        return html.unescape(re.sub(r"</?mark>", lambda m: "\x1b[1;33m" if m.group() == "<mark>" else "\x1b[0m", s))

    color = sys.stdout.isatty()
    strip = (lambda s: html.unescape(re.sub(r"</?mark>", "", s))) if not color else plain
    click.echo(f"{result.total} results ({result.took_ms:.1f} ms)")
    if result.note:
        click.echo(f"note: {result.note}")
    if result.suggestion:
        click.echo(f"did you mean: {result.suggestion}")
    for i, h in enumerate(result.hits, (result.page - 1) * result.per_page + 1):
        click.echo(f"\n{i}. {strip(h.title_html)}  [{h.score:.2f}]")
        click.echo(f"   {display(h.path)}" + (f"  §{h.section}" if h.section else ""))
        click.echo(f"   {strip(h.snippet_html)}")


# ------------------------------------------------------------------ serve

@main.command("serve")
@corpus_option
@index_option
@click.option("--host", default=DEFAULTS.host, show_default=True)
@click.option("--port", type=int, default=DEFAULTS.port, show_default=True)
@click.option("--threads", type=int, default=DEFAULTS.threads, show_default=True,
              help="WSGI threads per process.")
@click.option("--workers", type=click.IntRange(min=0), default=DEFAULTS.workers, show_default=True,
              help="Server processes sharing the port (0: one per core). One process uses one core.")
@click.option("--cache-size", type=click.IntRange(min=0), default=DEFAULTS.cache_size, show_default=True,
              help="Result pages kept per process for repeated queries (0: none).")
@click.option("--allow-origin", "allow_origins", multiple=True, metavar="ORIGIN",
              help="Let pages of this origin (https://blog.example) call the JSON API, e.g. the search box "
                   "of /widget.js; repeatable, '*' for any [env ZHSEARCH_ALLOW_ORIGINS, comma-separated].")
@click.option("--url-prefix", default=None, metavar="PATH",
              help="Path under which a reverse proxy serves the site, e.g. /zhsearch [env ZHSEARCH_URL_PREFIX].")
@site_options
@click.option("--watch", is_flag=True,
              help="Watch the corpus and update the index inside the server as articles change "
                   "(one indexing process, whatever --workers).")
@click.option("--dev", is_flag=True, help="Flask's development server with the reloader.")
@synonyms_option
@analytics_option
@click.option("--no-analytics", is_flag=True, help="Record no searches and no clicks.")
@click.option("--analytics-days", type=click.IntRange(min=1), default=DEFAULTS.analytics_days, metavar="N",
              show_default=True, help="Keep analytics this many days.")
@click.option("--admin-token", default=None, metavar="TOKEN",
              help=f"Turn on the /admin page, for this token ({MIN_ADMIN_TOKEN}+ characters) "
                   "[env ZHSEARCH_ADMIN_TOKEN, better: a command line is visible to other users of the machine].")
def serve_cmd(corpus, index_dir, host, port, threads, workers, cache_size, allow_origins, url_prefix,
              generator, anchor_style, base_path, clean_urls, watch, dev, synonyms, analytics_file, no_analytics,
              analytics_days, admin_token):
    """Serve the search site (builds the index first if there is none).

    With --watch, an edited, new or deleted article is searchable (or gone)
    about a second after it is saved."""
    from web import create_app  # lazily, for start-up speed (see the module's docstring)
    from web.server import dev_request_handler, serve

    settings = _settings(corpus=corpus, index=index_dir, synonyms=synonyms, cache_size=cache_size,
                         host=host, port=port, threads=threads, workers=workers,
                         allow_origins=allow_origins, url_prefix=url_prefix, anchor_style=anchor_style,
                         generator=generator, base_path=base_path, clean_urls=clean_urls,
                         analytics=analytics_file, analytics_enabled=not no_analytics,
                         analytics_days=analytics_days, admin_token=admin_token)
    if read_current(settings.index) is None:
        click.echo(f"no index in {settings.index}: building it from {settings.corpus} first…", err=True)
        bar = _ProgressBar() if sys.stderr.isatty() else None
        try:
            report = update_index(settings.index_config(), progress=bar, wait=60)
        finally:
            if bar:
                bar.close()
        _print_report(report)
    elif not watch:
        _note_stale_site(settings)
    if not watch and settings.embeddings and embeddings.available() \
            and not embeddings.VectorStore(settings.index).exists():
        click.echo("note: questions use passage embeddings once `zhsearch index` (or serve --watch) has made "
                   "them", err=True)
    sidecar = status = None
    if watch:
        status = WatchStatus()  # shared with every worker process: /healthz reports it
        # workers=1: the update runs beside the server's threads, never forking from them
        sidecar = partial(serve_watch, settings.index_config(workers=1), status=status)
    host, port = settings.host, settings.port
    workers = settings.workers or os.cpu_count() or 1
    procs = f", {workers} processes" if workers > 1 and not dev else ""
    watching = f", watching {settings.corpus}" if watch else ""
    click.echo(f"serving http://{host}:{port}/  (index {settings.index}{procs}{watching}; Ctrl-C to stop)", err=True)
    click.echo(f"analytics: {settings.analytics_file or 'off'}; admin page: "
               + (f"http://{host}:{port}/admin" if settings.admin_token else "off (no --admin-token)"), err=True)
    if dev:
        if sidecar is not None and os.environ.get("WERKZEUG_RUN_MAIN") == "true":  # the reloader's child only
            threading.Thread(target=sidecar, args=(threading.Event(),), name="zhsearch-watch", daemon=True).start()
        create_app(settings, watch=status).run(host=host, port=port, debug=True, use_reloader=True,
                                               request_handler=dev_request_handler())
        return
    serve(lambda: create_app(settings, watch=status), host, port, settings.threads, workers, sidecar=sidecar,
          watch=status)


def _note_stale_site(settings) -> None:
    """Serving without --watch does not re-index: say so when the index's
    URLs and ids were made for another site than the one configured now."""
    try:
        site = settings.index_config().site()
    except ValueError as exc:
        click.echo(f"note: {exc}", err=True)
        return
    built = recorded_identity(read_current(settings.index).meta.get("identity") or {})
    if built.get("site") != site.identity() or built.get("anchors") != site.anchors.value:
        click.echo(f"note: the index was built for another site than {site.describe()}; run `zhsearch index` "
                   "(or serve --watch) to rebuild it for this one", err=True)


# ------------------------------------------------------------------- eval

@main.command("eval")
@click.argument("queries", type=click.Path(exists=True, dir_okay=False))
@click.argument("qrels", type=click.Path(exists=True, dir_okay=False))
@corpus_option
@index_option
@click.option("--run", "run_path", type=click.Path(dir_okay=False), help="Write the TREC run here.")
@click.option("--tag", "run_tag", default="zhsearch", show_default=True, help="Run tag in the TREC file.")
@click.option("--per-query", is_flag=True, help="Also print nDCG@10 and RR@10 for every query.")
@click.option("--with-curation", is_flag=True,
              help="Apply the corpus's curation.yml (pins, hides, synonym groups); by default the figures "
                   "are the engine's own.")
@synonyms_option
def eval_cmd(queries, qrels, corpus, index_dir, run_path, run_tag, per_query, with_curation, synonyms):
    """Rank every query in QUERIES and score the run against QRELS.

    Indexes the corpus first if needed (incrementally). Prints nDCG@10,
    MRR@10 (RR@10), Recall@10 and P@1, computed with ir-measures.
    """
    from search.engine import Engine  # lazily, for start-up speed (see the module's docstring)
    from search.evaluate import evaluate

    settings = _settings(corpus=corpus, index=index_dir, synonyms=synonyms, uses=INDEXING + ("synonyms",))
    report = update_index(settings.index_config(), wait=600)
    if report.changed:
        _print_report(report)
    _embed(settings)
    engine = Engine(settings.index, settings.synonyms, curation=with_curation, semantic=settings.embeddings)
    res = evaluate(engine, Path(queries), Path(qrels), run_path=Path(run_path) if run_path else None, tag=run_tag)
    if per_query:
        for qid, text, m in res.per_query:
            click.echo(f"{qid}\t{m.get('nDCG@10', 0):.4f}\t{m.get('RR@10', 0):.4f}\t{text}")
    click.echo(f"queries   {res.queries}")
    for name in ("nDCG@10", "RR@10", "R@10", "P@1"):
        label = "MRR@10" if name == "RR@10" else name
        click.echo(f"{label:<9} {res.aggregate[name]:.4f}")
    if run_path:
        click.echo(f"run written to {run_path}")


# ------------------------------------------------------------ check-links

@main.command("check-links")
@index_option
@click.option("--site", "site_dir", required=True, type=click.Path(file_okay=False),
              help="The built site: the generator's output folder (public/, docs/.vuepress/dist, .vitepress/dist).")
@click.option("--base-url", default=None, metavar="URL",
              help="Where that site is published (https://blog.example/docs); its path is taken off each link. "
                   "Default: ZHSEARCH_BASE_URL, else the base path of the site config the index was built with.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def check_links_cmd(index_dir, site_dir, base_url, as_json):
    """Check every result link against the built site: exit 1 if any is broken.

    For each indexed article, the link results give (base URL + permalink)
    must be a page of the built site, reached without a redirect, and each
    of its sections' anchors must be an element id of that page.
    """
    settings = _settings(index=index_dir, base_url=base_url, uses=("index", "base_url"))
    try:
        report = check_links(settings.index, BuiltSite.from_dir(Path(site_dir)), settings.base_url)
    except (IndexUnavailable, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
    else:
        for issue in report.issues:
            click.echo(f"{issue.problem.value:<15} {issue.path}  {issue.url}" + (f"  ({issue.detail})" if issue.detail else ""))
        click.echo(f"{report.articles} articles: {report.count(Problem.MISSING_PAGE)} missing pages, "
                   f"{report.count(Problem.REDIRECT)} redirects, {report.count(Problem.MISSING_ANCHOR)} missing "
                   f"anchors of {report.anchors_checked} ({report.pages_found} pages found)")
    sys.exit(0 if report.ok else 1)


# -------------------------------------------------------------- analytics

@main.command("analytics")
@index_option
@analytics_option
@click.option("--days", type=click.IntRange(min=1), default=30, show_default=True,
              help="Report on the last N days.")
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True,
              help="Rows per table.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def analytics_cmd(index_dir, analytics_file, days, top, as_json):
    """What readers searched for: top queries, searches with no result (and
    what the index could offer them), queries with results but no click,
    click-through rate by rank, searches per day.

    Reads the file `zhsearch serve` records into; the index (when there is
    one) suggests did-you-mean, pinyin, synonym candidates and the closest
    title for the searches that found nothing.
    """
    from search.engine import Engine  # lazily, for start-up speed (see the module's docstring)
    from web.analytics_report import NoAnalytics, build, format_text, open_db

    settings = _settings(index=index_dir, analytics=analytics_file, uses=("index", "analytics", "synonyms"))
    path = settings.analytics_file
    if path is None:
        raise click.ClickException("analytics are off (ZHSEARCH_ANALYTICS=off): name the file with --analytics FILE")
    try:
        conn = open_db(path)
    except NoAnalytics as exc:
        raise click.ClickException(str(exc)) from None
    try:
        engine = Engine(settings.index, settings.synonyms) if read_current(settings.index) else None
        report = build(conn, path, days, engine=engine, top=top)
    finally:
        conn.close()
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
    else:
        click.echo(format_text(report), nl=False)


# ------------------------------------------------------------------ words

@main.command("words")
@corpus_option
@index_option
@click.option("--userdict", type=click.Path(dir_okay=False),
              help="jieba user dictionary [env ZHSEARCH_USERDICT, default CORPUS/userdict.txt].")
@click.option("--top", type=click.IntRange(min=1), default=50, show_default=True, help="How many words to print.")
@click.option("--min-count", type=click.IntRange(min=2), default=MIN_COUNT, show_default=True,
              help="Only sequences occurring at least this often.")
@click.option("--max-articles", type=click.IntRange(min=1), default=None,
              help="Only read the first N articles (a quick look at a huge corpus).")
@click.option("--json", "as_json", is_flag=True, help="Print the words (with their statistics) as JSON.")
def words_cmd(corpus, index_dir, userdict, top, min_count, max_articles, as_json):
    """Print frequent Chinese words that jieba does not know (new-word discovery).

    Lists multi-character sequences that occur often as a unit in the corpus
    but that jieba cuts into pieces (model and product names, technical
    terms), as ``word<TAB>count<TAB>score`` lines, best first.  Review them
    and add the real words to the user dictionary, then re-index.
    """
    settings = _settings(corpus=corpus, index=index_dir, userdict=userdict,
                         uses=("corpus", "index", "userdict", "segmenter"))
    cfg = settings.index_config()
    ud = cfg.resolved_userdict()  # the dictionary, and the segmenter, an index of this corpus would use
    # jieba's dictionary cache lives with the index; don't create an index dir just for it
    cache = settings.index if (index_dir or settings.index.is_dir()) else None
    try:
        report = discover(settings.corpus, Analyzer(ud, segmenter=cfg.segmenter, cache_dir=cache),
                          min_count=min_count, top=top, max_articles=max_articles)
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    target = ud or settings.corpus / "userdict.txt"
    example = report.words[0].word if report.words else "星河智算"
    hint = (f"to add words: review them, append `word freq` lines to {target} "
            f"(e.g. `{example} 300`; keep freq modest, at most ~300, so a new word does not steal "
            f"characters from its neighbours), then run `zhsearch index` (the index is rebuilt)")
    if as_json:
        click.echo(json.dumps({
            "corpus": report.corpus, "articles": report.articles, "han_chars": report.han_chars,
            "min_count": min_count, "userdict": str(ud) if ud else None,
            "words": [w.to_dict() for w in report.words],
            "skipped": [{"path": p, "reason": r} for p, r in report.skipped],
            "hint": hint,
        }, ensure_ascii=False, indent=1))
        return

    for path, reason in report.skipped:
        click.echo(f"skipped  {display(path)}: {reason}", err=True)
    if not report.words:
        click.echo(f"no unknown words occur {min_count}+ times in {report.articles} articles", err=True)
        return
    for w in report.words:
        click.echo(f"{w.word}\t{w.count}\t{w.score:.1f}")
    click.echo(hint, err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
