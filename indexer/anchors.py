"""Heading anchors exactly as the site's generator makes them.

A search hit links to ``permalink#anchor`` on the user's own site, so the
anchor must be the ``id`` the site generator gave that heading, or the link
lands at the top of the page.  Generators slugify differently:

===========  ====================================================  ==============
style        generator                                             duplicates
===========  ====================================================  ==============
vuepress     VuePress 1 (``@vuepress/shared-utils`` slugify with    ``x``, ``x-2``
             markdown-it-anchor 5), the vdoing theme of the seed
vuepress2    VuePress 2 (``@mdit-vue/shared`` slugify,              ``x``, ``x-1``
             markdown-it-anchor >= 6); ``{#id}`` is text there
vitepress    VitePress: the same slugify, ``{#id}`` honoured         ``x``, ``x-1``
hugo         Hugo's Goldmark ``autoHeadingIDType = "github"``       ``x``, ``x-1``
hugo-github- ``autoHeadingIDType = "github-ascii"``: accents        ``x``, ``x-1``
ascii        removed, other non-ASCII dropped
hugo-        ``autoHeadingIDType = "blackfriday"``                  ``x``, ``x-1``
blackfriday
hexo         hexo-renderer-marked (hexo-util ``slugize``, case      ``x``, ``x-1``
             kept, ``modifyAnchors: 0``) of the *rendered* heading
             with its HTML stripped: `` to `<string>` `` → ``to``
hexo-lower,  the same with ``marked: modifyAnchors: 1`` / ``2``     ``x``, ``x-1``
hexo-upper
===========  ====================================================  ==============

The functions below re-implement those rules character for character
(JavaScript's ``\\s``, ``[0-9]`` for ``\\d``, NFKD without recomposition),
checked against the generators' own test cases in ``tests/test_anchors.py``.
The slug is computed from what those generators read: the heading's text and
inline code (not image alt text, not HTML tags; Hexo: its rendered HTML,
stripped; Hugo: its source line), after a ``{#custom-id}`` is taken off
where the generator honours one (:attr:`AnchorStyle.custom_ids`).

The style is applied at index time (anchors are stored with each section), so
it is part of an index's identity: changing it rebuilds the index.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from enum import StrEnum


class AnchorStyle(StrEnum):
    """How a site generator turns a heading into its ``id``."""

    VUEPRESS = "vuepress"
    VUEPRESS2 = "vuepress2"
    VITEPRESS = "vitepress"
    HUGO = "hugo"
    HUGO_ASCII = "hugo-github-ascii"
    HUGO_BLACKFRIDAY = "hugo-blackfriday"
    HEXO = "hexo"
    HEXO_LOWER = "hexo-lower"
    HEXO_UPPER = "hexo-upper"

    @property
    def custom_ids(self) -> bool:
        """The generator takes ``## Title {#my-id}`` as the id ``my-id``
        (markdown-it-attrs in VitePress, goldmark's attributes in Hugo).
        VuePress 2 and Hexo do not: there ``{#my-id}`` is text of the
        heading, slugged with the rest (Hexo cannot even parse it)."""
        return self not in (AnchorStyle.VUEPRESS, AnchorStyle.VUEPRESS2, AnchorStyle.HEXO, AnchorStyle.HEXO_LOWER,
                            AnchorStyle.HEXO_UPPER)

    @property
    def emoji_shortcodes(self) -> bool:
        """markdown-it-emoji turns ``:email:`` into an emoji token, which
        markdown-it-anchor leaves out of the id (VuePress 1 and 2, VitePress)."""
        return self in (AnchorStyle.VUEPRESS, AnchorStyle.VUEPRESS2, AnchorStyle.VITEPRESS)

    @property
    def keeps_entities(self) -> bool:
        """VitePress's own ``text_join`` keeps an entity as written (``&amp;``
        gives the id ``a-amp-b``), and an escaped ``\\&`` as ``&amp;``."""
        return self is AnchorStyle.VITEPRESS

    @property
    def reads_source(self) -> bool:
        """Hugo's goldmark makes an id from the heading's *source* line
        (``[a](https://x)`` gives ``ahttpsx``, ``&amp;`` gives ``amp``)."""
        return self in (AnchorStyle.HUGO, AnchorStyle.HUGO_ASCII, AnchorStyle.HUGO_BLACKFRIDAY)

    @property
    def reads_html(self) -> bool:
        """hexo-renderer-marked slugs the heading's rendered HTML (tags and
        all, then stripped): it needs the heading's inline HTML too."""
        return self in (AnchorStyle.HEXO, AnchorStyle.HEXO_LOWER, AnchorStyle.HEXO_UPPER)

    @classmethod
    def parse(cls, value: str | AnchorStyle | None) -> AnchorStyle:
        """A style from its name (case-insensitive); ``ValueError`` names the choices."""
        if value is None or value == "":
            return DEFAULT_STYLE
        if isinstance(value, AnchorStyle):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            raise ValueError(f"unknown anchor style {value!r}; choose one of: "
                             + ", ".join(s.value for s in cls)) from None


#: The seed corpus comes from a vuepress-theme-vdoing site (VuePress 1).
DEFAULT_STYLE = AnchorStyle.VUEPRESS

# JavaScript's \s (ECMAScript WhiteSpace + LineTerminator), which differs from
# Python's: no \x1c-\x1f or \x85, but U+FEFF.
_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_CONTROL_RE = re.compile(r"[\u0000-\u001f]")
_COMBINING_RE = re.compile(r"[\u0300-\u036f]")
_DASHES_RE = re.compile(r"-{2,}")
_EDGE_DASHES_RE = re.compile(r"^-+|-+$")
_LEADING_DIGIT_RE = re.compile(r"^([0-9])")
# the "special characters" each generator turns into one "-"
_VUEPRESS_SPECIAL_RE = re.compile(f"[{_JS_SPACE}~`!@#$%^&*()\\-_+=\\[\\]{{}}|\\\\;:\"'“”‘’–—<>,.?/]+")
_VUEPRESS2_SPECIAL_RE = re.compile(f"[{_JS_SPACE}~`!@#$%^&*()\\-_+=\\[\\]{{}}|\\\\;:\"'“”‘’<>,.?/]+")
_HEXO_SPECIAL_RE = re.compile(f"[{_JS_SPACE}~`!@#$%^&*()\\-_+=\\[\\]{{}}|\\\\;:\"'<>,.?/]+")


def _vuepress_like(text: str, special: re.Pattern) -> str:
    s = unicodedata.normalize("NFKD", text)
    s = _COMBINING_RE.sub("", s)
    s = _CONTROL_RE.sub("", s)
    s = special.sub("-", s)
    s = _DASHES_RE.sub("-", s)
    s = _EDGE_DASHES_RE.sub("", s)
    s = _LEADING_DIGIT_RE.sub(r"_\1", s)
    return s.lower()


def slug_vuepress(text: str) -> str:
    """VuePress 1 (and the vdoing theme): NFKD, accents dropped, punctuation
    runs to ``-``, a leading digit prefixed with ``_``, lower case."""
    return _vuepress_like(text, _VUEPRESS_SPECIAL_RE)


def slug_vuepress2(text: str) -> str:
    """VuePress 2 / VitePress: as VuePress 1 without the en and em dash."""
    return _vuepress_like(text, _VUEPRESS2_SPECIAL_RE)


def slug_hugo(text: str, ascii_only: bool = False) -> str:
    """Hugo (Goldmark, ``github`` ids, as on github.com): letters, digits and
    ``_`` kept and lower-cased, each space or ``-`` becomes ``-`` (runs are
    not collapsed), everything else (tabs too) dropped; an empty result is
    ``heading``.  ``ascii_only`` (``github-ascii``): accents removed first,
    then every non-ASCII character dropped."""
    if ascii_only:
        text = _COMBINING_RE.sub("", unicodedata.normalize("NFD", text))
    out = []
    for ch in text.strip():
        if ascii_only and not ch.isascii():
            continue
        if ch in "- ":
            out.append("-")
        elif ch == "_" or ch.isalpha() or unicodedata.category(ch) == "Nd":
            low = ch.lower()
            out.append(low if len(low) == 1 else ch)  # Go lower-cases rune by rune
    return "".join(out) or "heading"


def slug_hugo_ascii(text: str) -> str:
    """Hugo with ``autoHeadingIDType = "github-ascii"``."""
    return slug_hugo(text, ascii_only=True)


def slug_blackfriday(text: str) -> str:
    """Hugo with ``autoHeadingIDType = "blackfriday"`` (blackfriday's
    ``SanitizedAnchorName``): runs of letters and digits, lower-cased,
    joined by one ``-`` wherever anything else stood between them."""
    out: list[str] = []
    dash = False
    for ch in text:
        if ch.isalpha() or unicodedata.category(ch) in ("Nd", "Nl", "No"):
            if dash and out:
                out.append("-")
            dash = False
            low = ch.lower()
            out.append(low if len(low) == 1 else ch)
        else:
            dash = True
    return "".join(out) or "heading"


# Latin letters that hexo-util's diacritics table maps but that have no
# canonical decomposition to a base letter.
_HEXO_LETTERS = str.maketrans({
    "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "Ø": "O", "ø": "o", "Đ": "D", "đ": "d",
    "Ł": "L", "ł": "l", "ß": "s", "ı": "i", "Ħ": "H", "ħ": "h", "ƒ": "f",
})


def _hexo_diacritic(ch: str) -> str:
    if ch.isascii():
        return ch
    mapped = ch.translate(_HEXO_LETTERS)
    if mapped != ch:
        return mapped
    base = unicodedata.normalize("NFKD", ch)
    if base and base[0].isascii() and base[0].isalpha() and not _COMBINING_RE.sub("", base[1:]):
        return base[0]  # é → e, Ａ (full width) → A, Ⓐ → A
    return ch


def strip_html(html: str) -> str:
    """hexo-util's ``stripHTML`` (a port of striptags), state for state: a
    ``<`` opens a tag up to the matching ``>`` (quotes and nested ``<``
    respected), ``<!--`` a comment; ``<`` followed by a space or a line
    break is text.  An unclosed tag swallows the rest, as there."""
    return _StripTags(html).run()


class _StripTags:
    """striptags' state machine over one string: one method per state."""

    TEXT, TAG, COMMENT = 0, 1, 2

    def __init__(self, html: str) -> None:
        self.html = html
        self.out: list[str] = []
        self.state = self.TEXT
        self.depth = 0  # "<" nested inside a tag
        self.quote = ""  # the quote a tag's attribute is open with
        self.tag_start = -1
        self.plain_start = 0  # where the text being kept began

    def run(self) -> str:
        steps = (self._text, self._tag, self._comment)
        for i, ch in enumerate(self.html):
            steps[self.state](i, ch)
        if self.state == self.TEXT and self.plain_start < len(self.html):
            self.out.append(self.html[self.plain_start:])
        return "".join(self.out)

    def _text(self, i: int, ch: str) -> None:
        if ch == "<":
            self.out.append(self.html[self.plain_start:i])
            self.state, self.tag_start = self.TAG, i

    def _tag(self, i: int, ch: str) -> None:
        if ch == "<":
            if not self.quote:
                self.depth += 1
        elif ch == ">":
            if not self.quote:
                self._close_tag(i)
        elif ch in "\"'":
            self.quote = "" if ch == self.quote else (self.quote or ch)
        elif ch == "-":
            if i - self.tag_start == 3 and self.html[self.tag_start + 1:self.tag_start + 3] == "!-":
                self.state = self.COMMENT
        elif ch in " \n" and i - self.tag_start == 1:  # "< " is text
            self.out.append("< ")
            self.state, self.tag_start, self.plain_start = self.TEXT, -1, i + 1

    def _close_tag(self, i: int) -> None:
        if self.depth:
            self.depth -= 1
        else:
            self.state, self.quote, self.tag_start, self.plain_start = self.TEXT, "", -1, i + 1

    def _comment(self, i: int, ch: str) -> None:
        if ch == ">":
            if i >= 2 and self.html[i - 2:i] == "--":
                self.state, self.plain_start = self.TEXT, i + 1
            self.tag_start = -1


_SMART_OPEN_SINGLE_RE = re.compile(r"(^|[-\u2014/(\[{\"\s])'")
_SMART_OPEN_DOUBLE_RE = re.compile(r"(^|[-\u2014/(\[{\u2018\s])\"")


# markdown-it-emoji's shortcode, bounded by a space, punctuation or an end of
# the text on both sides (its ZPCc test); the name list is not checked
_EMOJI_SHORTCODE_RE = re.compile(r"(?:(?<=[\s\W])|^):[a-z0-9_+-]+:(?=[\s\W]|$)")


def drop_emoji_shortcodes(text: str) -> str:
    """``:email: 联系`` → `` 联系``: what markdown-it-anchor reads of it."""
    return _EMOJI_SHORTCODE_RE.sub("", text) if ":" in text else text


def smartypants(text: str) -> str:
    """hexo-renderer-marked's ``smartypants`` (on by default): ``---`` → —,
    ``--`` → –, straight quotes → curly ones, ``...`` → …; applied to the
    text of a heading before Hexo slugs it."""
    text = text.replace("---", "\u2014").replace("--", "\u2013")
    text = _SMART_OPEN_SINGLE_RE.sub("\\1\u2018", text).replace("'", "\u2019")
    text = _SMART_OPEN_DOUBLE_RE.sub("\\1\u201c", text).replace('"', "\u201d")
    return text.replace("...", "\u2026")


def slug_hexo(text: str, transform: int = 0) -> str:
    """Hexo (hexo-renderer-marked): the heading's HTML stripped
    (:func:`strip_html`), then hexo-util's ``slugize``: Latin diacritics to
    their base letter, punctuation runs to ``-``; case (unless
    ``modifyAnchors`` = ``transform`` is 1: lower, 2: upper) and CJK
    punctuation are kept."""
    s = "".join(_hexo_diacritic(ch) for ch in strip_html(text).strip())
    s = _CONTROL_RE.sub("", s)
    s = _HEXO_SPECIAL_RE.sub("-", s)
    s = _DASHES_RE.sub("-", s)
    s = _EDGE_DASHES_RE.sub("", s)
    return s.lower() if transform == 1 else s.upper() if transform == 2 else s


_SLUGS: dict[AnchorStyle, Callable[[str], str]] = {
    AnchorStyle.VUEPRESS: slug_vuepress,
    AnchorStyle.VUEPRESS2: slug_vuepress2,
    AnchorStyle.VITEPRESS: slug_vuepress2,
    AnchorStyle.HUGO: slug_hugo,
    AnchorStyle.HUGO_ASCII: slug_hugo_ascii,
    AnchorStyle.HUGO_BLACKFRIDAY: slug_blackfriday,
    AnchorStyle.HEXO: slug_hexo,
    AnchorStyle.HEXO_LOWER: lambda text: slug_hexo(text, 1),
    AnchorStyle.HEXO_UPPER: lambda text: slug_hexo(text, 2),
}


def slug(text: str, style: AnchorStyle = DEFAULT_STYLE) -> str:
    """The anchor ``style`` gives a heading with this text (before de-duplication)."""
    return _SLUGS[AnchorStyle.parse(style)](text)


class Slugger:
    """Unique anchors for the headings of one page, numbered like the generator.

    * VuePress 1 (markdown-it-anchor 5): ``x``, ``x-2``, ``x-3``, skipping
      ids already taken;
    * VuePress 2 and Hugo: ``x``, ``x-1``, ``x-2``, skipping ids already taken;
    * Hexo: ``x``, ``x-1``, ``x-2`` by a plain per-slug counter.

    Custom ids (``{#id}``) are used as written and reserved.
    """

    def __init__(self, style: AnchorStyle = DEFAULT_STYLE) -> None:
        self.style = AnchorStyle.parse(style)
        self._used: set[str] = set()
        self._counts: dict[str, int] = {}

    def reserve(self, anchor: str) -> str:
        """Take a custom id as it is."""
        self._used.add(anchor)
        return anchor

    def anchor(self, text: str) -> str:
        base = slug(text, self.style)
        if self.style.reads_html:
            n = self._counts.get(base, 0)
            self._counts[base] = n + 1
            out = f"{base}-{n}" if n else base
        else:
            out, i = base, (2 if self.style is AnchorStyle.VUEPRESS else 1)
            while out in self._used:
                out = f"{base}-{i}"
                i += 1
        self._used.add(out)
        return out
