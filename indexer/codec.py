"""How the index is laid out on disk: Whoosh's W3 codec with our own
inverted files.

Whoosh keeps everything per document (stored fields, field lengths,
columns) in W3's files, which :class:`ZhCodec` inherits.  The inverted part
is ours, because W3's framing was most of the index (149 MB for 34 MB of
markdown on the development corpus, bench/README.md "Index size"):

* :class:`~indexer.positions.CompactPositions`: a posting's positions as a
  machine array of gaps instead of a 4-byte count plus a pickled list.
* ``.trm``: a front-coded term dictionary (:mod:`indexer.termdict`) whose
  values are :class:`ZhTermInfo` varints (~9 bytes where W3 spends 35, plus
  ~36 bytes of hash-file framing per term).
* ``.pst``: each term's posting list as one compact byte string
  (:mod:`indexer.postings`) instead of W3's blocks (~100 bytes of header for
  a list of one posting; most terms are bigrams found in one or two
  articles).

Readers see Whoosh's ``TermsReader`` API, so Whoosh's matchers, merges,
prefix walks and spelling cursors work unchanged; :mod:`search.vector` asks
:meth:`ZhTermsReader.decoded` for whole lists as arrays.  Segments remember
their codec, so an index written this way is read with the same classes.

The writer's posting pool (:mod:`indexer.pool`) hands its postings over
grouped by term; :meth:`ZhFieldWriter.add_grouped` writes them term by term.

Whoosh pickles the schema into every index, and a pickle names a class by
the module it was defined in: indexes written before the text field and the
positions format moved to :mod:`indexer.textfield` and
:mod:`indexer.positions` name them ``indexer.codec.InterningText`` and
``indexer.codec.CompactPositions``, so this module still offers both names:
``zhsearch index`` rebuilds an index of an older schema, but ``serve`` and
``search`` open the live generation as it is (and say it is outdated:
``search.engine``), so an older index must still unpickle.
"""

from __future__ import annotations

import io
import mmap
import struct

from whoosh.codec import base
from whoosh.codec.whoosh3 import W3Codec
from whoosh.reading import TermInfo, TermNotFound
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.util.varints import varint

from . import postings, whoosh_compat
from .pool import GroupedPostings
from .positions import CompactPositions  # noqa: F401 - a name older indexes' schemas pickled (see above)
from .termdict import TermDictReader, TermDictWriter
from .textfield import InterningText  # noqa: F401 - a name older indexes' schemas pickled (see above)


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    """The varint at ``buf[pos]`` and the position after it (Whoosh's own
    ``read_varint`` reads from a file, one call per byte)."""
    b = buf[pos]
    if b < 0x80:
        return b, pos + 1
    result, shift = b & 0x7F, 7
    while True:
        pos += 1
        b = buf[pos]
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos + 1
        shift += 7


_DOUBLES = struct.Struct("<dd")


class ZhTermInfo(TermInfo):
    """A term's statistics plus where its postings start in the ``.pst`` file.

    On disk (the term dictionary's value): the offset from the block's base,
    the document frequency (doubled, plus one when the weights are not whole
    numbers), the first ID and the span to the last, the shortest and longest
    field lengths (Whoosh's one-byte approximation), the total and the largest
    weight — varints throughout, ~9 bytes for a term of one article where W3
    spends 35.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.offset = 0

    def to_bytes(self, block_base: int) -> bytes:
        return term_info_bytes(self.offset - block_base, self.doc_frequency(), self.min_id(), self.max_id(),
                               self.min_length(), self.max_length(), self.weight(), self.max_weight())

    @classmethod
    def from_bytes(cls, value: bytes, block_base: int) -> ZhTermInfo:
        delta, pos = _read_varint(value, 0)
        df2, pos = _read_varint(value, pos)
        minid, pos = _read_varint(value, pos)
        span, pos = _read_varint(value, pos)
        minlength, maxlength = byte_to_length(value[pos]), byte_to_length(value[pos + 1])
        pos += 2
        if df2 & 1:
            weight, maxweight = _DOUBLES.unpack_from(value, pos)
        else:
            weight, pos = _read_varint(value, pos)
            maxweight, pos = _read_varint(value, pos)
            weight, maxweight = float(weight), float(maxweight)
        ti = cls(weight=weight, df=df2 >> 1, minlength=minlength, maxlength=maxlength,
                 maxweight=maxweight, minid=minid, maxid=minid + span)
        ti.offset = block_base + delta
        return ti

    @staticmethod
    def doc_frequency_of(value: bytes) -> int:
        """The document frequency alone, without decoding the rest."""
        _, pos = _read_varint(value, 0)
        return _read_varint(value, pos)[0] >> 1


class _LengthsPair(dict):
    """``length → bytes((length_to_byte(length),) * 2)``: a one-posting term's
    shortest and longest field length, made once per length."""

    def __missing__(self, length: int) -> bytes:
        b = length_to_byte(length)
        value = self[length] = bytes((b, b))
        return value


lengths_pair = _LengthsPair().__getitem__


def term_info_bytes(offset_delta: int, df: int, minid: int, maxid: int, minlength: int, maxlength: int,
                    weight: float, maxweight: float) -> bytes:
    """A :class:`ZhTermInfo` as stored (see its docstring), without the object."""
    whole = weight == int(weight) and maxweight == int(maxweight)
    return b"".join((
        varint(offset_delta), varint(df << 1 | (not whole)), varint(minid), varint(maxid - minid),
        bytes((length_to_byte(minlength), length_to_byte(maxlength))),
        varint(int(weight)) + varint(int(maxweight)) if whole else _DOUBLES.pack(weight, maxweight),
    ))


class MissingTerm(TermNotFound, KeyError):
    """A term not in the dictionary: ``TermNotFound`` for Whoosh's callers
    that expect it, ``KeyError`` for those (``SegmentReader.frequency``,
    ``doc_frequency``) that catch that instead, as W3's hash lookups raise."""


def _term_key(fieldid: int, btext: bytes) -> bytes:
    # big-endian field number first: keys sort by field, then by term, as
    # Whoosh's writer hands them over
    return fieldid.to_bytes(2, "big") + btext


class ZhFieldWriter(base.FieldWriter):
    """Writes the term dictionary (``.trm``) and the posting lists (``.pst``)."""

    def __init__(self, codec, storage, segment) -> None:
        self._tdict = TermDictWriter(segment.create_file(storage, ZhCodec.TERMS_EXT))
        self._fieldmap: dict[str, int] = {}
        self._tdict.extras["fieldmap"] = self._fieldmap
        self._postfile = segment.create_file(storage, ZhCodec.POSTS_EXT)
        self._written = 0  # bytes in the postings file so far
        self._base = 0  # postings offset at the start of the dictionary block
        self._fieldid = 0
        self._btext = b""
        self._ids: list[int] = []
        self._weights: list[float] = []
        self._values: list[bytes] = []
        self._lengths: list[int] = []
        self.is_closed = False

    def start_field(self, fieldname, fieldobj) -> None:
        self._fieldid = self._fieldmap.setdefault(fieldname, len(self._fieldmap))

    def start_term(self, btext: bytes) -> None:
        self._btext = btext
        self._ids, self._weights, self._values, self._lengths = [], [], [], []

    def add(self, docnum, weight, vbytes, length) -> None:
        self._ids.append(docnum)
        self._weights.append(weight)
        self._values.append(vbytes or b"")
        self._lengths.append(length or 0)

    def finish_term(self) -> None:
        ids = self._ids
        if not ids:
            return
        blob = postings.encode(ids, self._weights, self._values)
        tdict = self._tdict
        if tdict.starts_block():
            self._base = self._written
        ti = ZhTermInfo(weight=sum(self._weights), df=len(ids), minlength=min(self._lengths),
                        maxlength=max(self._lengths), maxweight=max(self._weights),
                        minid=ids[0], maxid=ids[-1])
        ti.offset = self._written
        tdict.add(_term_key(self._fieldid, self._btext), ti.to_bytes(self._base), self._base)
        self._postfile.write(blob)
        self._written += len(blob)

    def finish_field(self) -> None:
        pass

    def add_postings(self, schema, lengths, items) -> None:
        if isinstance(items, GroupedPostings):
            self.add_grouped(lengths, items)
        else:
            super().add_postings(schema, lengths, items)

    def add_grouped(self, lengths, grouped) -> None:
        """Write a :class:`~indexer.pool.GroupedPool`'s postings, term by
        term, with each field's lengths read once per document (Whoosh's
        generic path reads one per posting)."""
        tdict, postfile = self._tdict, self._postfile
        encode, encode_one, key_of = postings.encode, postings.encode_one, _term_key
        for fieldname, terms in grouped.fields():
            fieldid = self._fieldmap.setdefault(fieldname, len(self._fieldmap))
            flen = _field_lengths(lengths, fieldname)
            for btext, lst in terms:
                if tdict.starts_block():
                    self._base = self._written
                if len(lst) == 3:  # one posting: most terms (bigrams of one article)
                    docnum, weight, value = lst
                    blob = encode_one(docnum, weight, value or b"")
                    length = 0 if flen is None else flen[docnum]
                    if weight == 1:  # the common case of term_info_bytes, spelled out
                        info = b"".join((varint(self._written - self._base), b"\x02", varint(docnum), b"\x00",
                                         lengths_pair(length), b"\x01\x01"))
                    else:
                        info = term_info_bytes(self._written - self._base, 1, docnum, docnum, length, length,
                                               weight, weight)
                else:
                    ids, weights, values = lst[0::3], lst[1::3], lst[2::3]
                    if any(map(int.__ge__, ids, ids[1:])):
                        raise ValueError(f"postings of {fieldname}:{btext!r} out of document order")
                    blob = encode(ids, weights, [v or b"" for v in values])
                    if flen is None:
                        minlength = maxlength = 0
                    else:
                        lens = [flen[d] for d in ids]
                        minlength, maxlength = min(lens), max(lens)
                    info = term_info_bytes(self._written - self._base, len(ids), ids[0], ids[-1], minlength,
                                           maxlength, sum(weights), max(weights))
                tdict.add(key_of(fieldid, btext), info, self._base)
                postfile.write(blob)
                self._written += len(blob)

    def close(self) -> None:
        self._tdict.close()
        self._postfile.close()
        self.is_closed = True


def _field_lengths(lengths, fieldname: str) -> list[int] | None:
    """Every document's length of a field as the per-document reader gives
    it (None without a reader, as Whoosh's writer then counts 0)."""
    if not lengths:
        return None
    dfl = lengths.doc_field_length
    return [dfl(d, fieldname) for d in range(lengths.doc_count_all())]


def _buffer(dbfile):
    """The whole file as a buffer that slices without seeking (thread-safe)."""
    buf = whoosh_compat.file_buffer(dbfile)  # a sub-file of a memory-mapped compound segment
    if buf is not None:
        return buf
    try:
        return mmap.mmap(dbfile.fileno(), 0, access=mmap.ACCESS_READ)
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        dbfile.seek(0)
        return dbfile.read()


class ZhCursor(base.FieldCursor):
    """Walks one field's terms in order (Whoosh's spelling automata use it)."""

    def __init__(self, reader: ZhTermsReader, fieldname: str, fieldobj) -> None:
        self._reader = reader
        self._fieldobj = fieldobj
        self._prefix = reader._key(fieldname, b"")
        self._it = iter(())
        self._text = None
        self._value: tuple[bytes, int] | None = None
        self.first()

    def _seek(self, key: bytes):
        self._it = self._reader._tdict.items_from(key)
        return self.next()

    def first(self):
        return self._seek(self._prefix)

    def find(self, term):
        if not isinstance(term, bytes):
            term = self._fieldobj.to_bytes(term)
        return self._seek(self._prefix + term)

    def next(self):
        item = next(self._it, None)
        if item is not None and item[0].startswith(self._prefix):  # still in this field
            key, value, block_base = item
            self._text = self._fieldobj.from_bytes(key[len(self._prefix):])
            self._value = (value, block_base)
            return self._text
        self._text = self._value = None
        self._it = iter(())
        return None

    def text(self):
        return self._text

    def term_info(self):
        return None if self._value is None else ZhTermInfo.from_bytes(*self._value)

    def is_valid(self) -> bool:
        return self._text is not None


class ZhTermsReader(base.TermsReader):
    """Reads what :class:`ZhFieldWriter` wrote."""

    def __init__(self, tifile, postfile) -> None:
        self._files = (tifile, postfile)
        self._tdict = TermDictReader(_buffer(tifile))
        self._postings = _buffer(postfile)
        self._fieldmap: dict[str, int] = self._tdict.extras["fieldmap"]
        self._fieldnames = {num: name for name, num in self._fieldmap.items()}

    def buffers(self) -> tuple:
        """The term dictionary's and the postings' buffers (views of the
        segment's mapping when it is memory-mapped)."""
        return self._tdict.buffer, self._postings

    def _key(self, fieldname: str, tbytes: bytes) -> bytes:
        # a field this segment lacks gets a number no key has: found nowhere
        return _term_key(self._fieldmap.get(fieldname, 0xFFFF), tbytes)

    def _split(self, key: bytes) -> tuple[str, bytes]:
        return self._fieldnames[int.from_bytes(key[:2], "big")], key[2:]

    def _find(self, fieldname: str, tbytes: bytes) -> tuple[bytes, int]:
        found = self._tdict.find(self._key(fieldname, tbytes))
        if found is None:
            raise MissingTerm(f"{fieldname}:{tbytes!r}")
        return found

    def __contains__(self, term) -> bool:
        return self._tdict.find(self._key(*term)) is not None

    def indexed_field_names(self):
        return self._fieldmap.keys()

    def cursor(self, fieldname, fieldobj):
        return ZhCursor(self, fieldname, fieldobj)

    def terms(self):
        return (self._split(key) for key, _, _ in self._tdict.items_from(b""))

    def terms_from(self, fieldname, prefix):
        return (self._split(key) for key, _, _ in self._tdict.items_from(self._key(fieldname, prefix)))

    def items(self):
        return ((self._split(key), ZhTermInfo.from_bytes(value, block_base))
                for key, value, block_base in self._tdict.items_from(b""))

    def items_from(self, fieldname, prefix):
        return ((self._split(key), ZhTermInfo.from_bytes(value, block_base))
                for key, value, block_base in self._tdict.items_from(self._key(fieldname, prefix)))

    def term_info(self, fieldname, tbytes):
        return ZhTermInfo.from_bytes(*self._find(fieldname, tbytes))

    def frequency(self, fieldname, tbytes):
        return self.term_info(fieldname, tbytes).weight()

    def doc_frequency(self, fieldname, tbytes):
        return ZhTermInfo.doc_frequency_of(self._find(fieldname, tbytes)[0])

    def _decode(self, ti: ZhTermInfo) -> postings.Decoded:
        return postings.decode(self._postings[ti.offset:], ti.doc_frequency())

    def decoded(self, fieldname: str, tbytes: bytes) -> postings.Decoded | None:
        """A term's whole posting list as arrays (``search.vector`` reads this)."""
        try:
            return self._decode(self.term_info(fieldname, tbytes))
        except TermNotFound:
            return None

    def matcher(self, fieldname, tbytes, format_, scorer=None):
        ti = self.term_info(fieldname, tbytes)
        d = self._decode(ti)
        return whoosh_compat.TermListMatcher(d.ids.tolist(), d.weights.tolist(), d.values(), format_,
                                             scorer=scorer, term=(fieldname, tbytes), terminfo=ti)

    def close(self) -> None:
        self._tdict = None
        self._postings = None
        for f in self._files:
            f.close()


class ZhCodec(W3Codec):
    """W3's per-document files (stored fields, lengths, columns) with our own
    term dictionary and posting lists (``termdict``, ``postings``)."""

    def field_writer(self, storage, segment):
        return ZhFieldWriter(self, storage, segment)

    def terms_reader(self, storage, segment):
        tifile = segment.open_file(storage, self.TERMS_EXT)
        postfile = segment.open_file(storage, self.POSTS_EXT)
        return ZhTermsReader(tifile, postfile)
