"""File names as the index keeps them: any name the file system can hold.

On Linux a file name is bytes, not text.  ``unzip`` of an archive made on
Chinese Windows gives names in GBK (``文章.md`` as ``b'\\xce\\xc4\\xd5\\xc2.md'``),
and Python hands such a name over as a ``str`` with lone surrogates
(PEP 383's ``surrogateescape``: byte ``0xCE`` becomes ``U+DCCE``).  A lone
surrogate cannot be written as UTF-8, which every Whoosh term, JSON answer
and URL needs.  So a corpus-relative name has three forms:

* the **file-system name** (:func:`fs_name`): what ``os`` functions take;
* the **key** (:func:`key`): the article's identity in the index (its
  ``path`` field, the manifest, ``/a/<key>`` and the API's ``path``).  A name
  that is UTF-8 (nearly all of them) is its own key, so no index built before
  this module changes; each undecodable byte ``0xNN`` becomes ``U+10FFNN``
  (the end of plane 16's private use area), and a real character from
  ``U+10FF00``–``U+10FFFF`` is quoted by a ``U+10FF00`` before it.  The key
  is therefore valid Unicode, one name has one key, and two names never
  share one: ``fs_name(key(n)) == n`` for every name;
* the **display name** (:func:`display`): what a person reads in the
  command's report, on the results page and the article page.  Each
  folder or file name that is UTF-8 is shown as it is; one that is not
  is decoded as GB18030 (GBK's superset) when its bytes decode cleanly,
  and otherwise shown with ``\\xNN`` escapes.  Control characters
  (a newline, a tab), invisible format characters and bidi controls are
  shown as escapes (``\\n``, ``\\u202e``), so a name cannot break a report
  line or reorder what is shown around it.  The display name is for
  reading only: it is not unique and never used to find a file.
"""

from __future__ import annotations

import os
import re
import unicodedata

from .folding import INVISIBLE

#: Undecodable byte 0xNN ↔ U+10FFNN; U+10FF00 quotes a real character of this block.
_BLOCK = 0x10FF00
_QUOTE = chr(_BLOCK)
_ESCAPE_RE = re.compile("[\udc80-\udcff\U0010ff00-\U0010ffff]")
_KEY_RE = re.compile("\U0010ff00.|[\U0010ff80-\U0010ffff]", re.S)

#: Controls, invisible format characters and bidi controls: escaped when a name is shown.
_SHOWN_ESCAPED_RE = re.compile(f"[\x00-\x1f\x7f-\x9f{INVISIBLE}]")
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _to_key(m: re.Match) -> str:
    c = m.group()
    if c <= "\udcff":
        return chr(_BLOCK + ord(c) - 0xDC00)
    return _QUOTE + c


def _from_key(m: re.Match) -> str:
    s = m.group()
    if len(s) == 2:  # a quoted real character
        return s[1]
    return chr(0xDC00 + ord(s) - _BLOCK)


def key(name: str) -> str:
    """The index key of a file-system name (``os.fsdecode`` form): valid
    Unicode, unique, and the name itself when it is UTF-8."""
    return _ESCAPE_RE.sub(_to_key, name) if _ESCAPE_RE.search(name) else name


def fs_name(k: str) -> str:
    """The file-system name of an index key (inverse of :func:`key`)."""
    return _KEY_RE.sub(_from_key, k) if _KEY_RE.search(k) else k


def is_plain(k: str) -> bool:
    """Whether a key is its file's name as the file system spells it (UTF-8)."""
    return not _KEY_RE.search(k)


def _shown(m: re.Match) -> str:
    c = m.group()
    if c in _NAMED:
        return _NAMED[c]
    code = ord(c)
    return f"\\x{code:02x}" if code <= 0xFF else (f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")


def readable_part(raw: bytes) -> str:
    """One folder or file name (bytes) as text a person can read, unescaped."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("gb18030")
        if not any(unicodedata.category(c) in ("Co", "Cn") for c in text):
            return text  # e.g. 文章.md from a Windows zip
    except UnicodeDecodeError:
        pass
    return raw.decode("utf-8", "backslashreplace")


def readable(k: str) -> str:
    """A key's name decoded for reading (see the module docstring), without
    the escaping of controls that :func:`display` adds."""
    if is_plain(k):
        return k
    raw = os.fsencode(fs_name(k))
    return "/".join(readable_part(p) for p in raw.split(b"/"))


def display(k: str) -> str:
    """A key as a person should see it: readable, on one line, in logical order."""
    text = readable(k)
    return _SHOWN_ESCAPED_RE.sub(_shown, text) if _SHOWN_ESCAPED_RE.search(text) else text


def article_name(k: str) -> str:
    """The name an article is parsed under (its fallback title and derived
    permalink come from it): the real name when it is UTF-8, else the
    readable decoding (a GBK ``文章.md`` is titled 文章, not with escapes)."""
    return k if is_plain(k) else readable(k)
