"""Likely earlier cases of the same matter (重复留言, SPEC §7), shown at intake before saving.

Three signals, each with its reason:

* ``phone`` — the same phone number, compared on its digits (``+86 138-0013-8000`` is
  ``13800138000``); numbers of fewer than 7 digits are ignored.
* ``name`` — the same petitioner name (exactly, after trimming; masked names never match).
* ``text`` — a similar title or content **in the same region**.

How text similarity is measured, and why. Chinese has no spaces, so word tokens would need a
segmenter (and its dictionary) and would still split the same complaint differently. Character
n-grams need none: two messages about "3号楼电梯停运" share the bigrams 电梯, 梯停, 停运 whatever
words surround them. The score is the **Dice coefficient of character bigrams**,
``2·|A∩B| / (|A|+|B|)``, over the title plus the start of the content (punctuation and spaces
removed) — order-insensitive, so a restated or reshuffled message still scores high, and
independent of length differences up to the head length. It is computed for the whole region
at once with numpy (bigrams as 42-bit integers, membership by binary search) rather than pair by
pair. Titles are short and often re-worded only slightly ("再次反映…"), so their similarity is also
taken as rapidfuzz's normalised Indel ratio (``fuzz.ratio``, longest-common-subsequence based,
order-aware) through ``rapidfuzz.process.cdist`` over the region's titles; the text score is the
larger of the two. ``token_set_ratio`` on bigram strings was tried and rejected: with
hundreds of tokens per message it is ~100× slower, and it gives 100 to any short query whose
few bigrams appear in a long message.

Everything is vectorised over the region's subset: 100,000 cases are searched in a fraction of
a second (the per-frame preparation is cached while the snapshot stays the same).
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process, utils

HEAD = 160  # characters of title + content compared
MIN_PHONE_DIGITS = 7
MIN_TITLE_CHARS = 4
TEXT_MIN = 60.0  # a text score below this is not shown as a likely repeat
NAME_SCORE = 70.0
PHONE_SCORE = 100.0
REASONS = ("phone", "name", "text")
_SEP = "\x00"
_NON_DIGITS = re.compile(r"\D+")
_STRIP = r"[\W_]+"  # punctuation, spaces, symbols (\w keeps CJK characters, letters, digits)


@dataclass(frozen=True)
class Query:
    """The new message's identifying values, as typed."""

    phone: str = ""
    petitioner: str = ""
    region: str = ""
    title: str = ""
    content: str = ""


def normal_phone(s: str | None) -> str:
    """Digits only, without the country code (``+86``/``0086``)."""
    digits = _NON_DIGITS.sub("", str(s or ""))
    for cc in ("0086", "86"):
        if digits.startswith(cc) and len(digits) - len(cc) == 11:
            return digits[len(cc) :]
    return digits


_STRIP_RE = re.compile(_STRIP)


def _phones(col: pd.Series) -> pd.Series:
    """:func:`normal_phone` of a whole column (Arrow string kernels, no Python loop)."""
    d = col.astype("string[pyarrow]").fillna("").str.replace(r"\D+", "", regex=True)
    n = d.str.len()
    d = d.where(~((n == 15) & d.str.startswith("0086")), d.str.slice(4))
    return d.where(~((n == 13) & d.str.startswith("86")), d.str.slice(2))


def normal_text(s: str | None) -> str:
    """Text with punctuation and spaces removed, lower-cased."""
    return _STRIP_RE.sub("", str(s or "")).lower()


def compared_text(title: str | None, content: str | None) -> str:
    """What is compared of a message: its title and the start of its content."""
    return str(title or "") + str(content or "")[:HEAD]


# Which code points of the Basic Multilingual Plane are kept (letters, digits, CJK); the rest
# (punctuation, spaces, symbols) is dropped before bigrams are taken. Above the BMP: kept.
_WORD = np.array([chr(i).isalnum() for i in range(65536)], dtype=bool)


def bigram_keys(texts: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
    """All character bigrams of ``texts`` (punctuation and spaces dropped, ASCII lower-cased)
    as integers, with the number of the text each comes from."""
    joined = _SEP.join(texts)
    if not joined:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    cp = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    keep = (cp == 0) | (cp >= 65536) | _WORD[np.minimum(cp, 65535)]
    cp = cp[keep]
    upper = (cp >= 65) & (cp <= 90)
    cp[upper] += 32
    a, b = cp[:-1], cp[1:]
    valid = (a != 0) & (b != 0)
    doc = np.cumsum(cp == 0)[:-1]
    return ((a << 21) | b)[valid], doc[valid]


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` by sorting (numpy 2's hash-based unique is far slower on large arrays)."""
    if values.size == 0:
        return values
    s = np.sort(values)
    first = np.empty(s.size, dtype=bool)
    first[0] = True
    np.not_equal(s[1:], s[:-1], out=first[1:])
    return s[first]


@dataclass(frozen=True)
class BigramIndex:
    """The distinct bigrams of many texts, sorted, as an inverted index (one pass to build)."""

    keys: np.ndarray  # distinct (bigram, text) pairs, sorted by bigram
    docs: np.ndarray  # the text of each pair
    sizes: np.ndarray  # distinct bigrams per text

    @classmethod
    def build(cls, texts: list[str]) -> BigramIndex:
        """Index ``texts``."""
        n = len(texts)
        keys, doc = bigram_keys(texts)
        if n == 0 or keys.size == 0:
            return cls(np.empty(0, np.int64), np.empty(0, np.int64), np.zeros(n, np.int64))
        pairs = _sorted_unique(keys * n + doc)  # bigram < 2**42, n < 2**21: fits in int64
        docs = pairs % n
        return cls(pairs // n, docs, np.bincount(docs, minlength=n))

    def dice(self, query: str) -> np.ndarray:
        """Bigram Dice similarity (0–100) of ``query`` with each indexed text."""
        n = len(self.sizes)
        q_keys, _ = bigram_keys([query])
        q = _sorted_unique(q_keys)
        if n == 0 or q.size == 0 or self.keys.size == 0:
            return np.zeros(n)
        lo = np.searchsorted(self.keys, q, side="left")
        hi = np.searchsorted(self.keys, q, side="right")
        lengths = hi - lo
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(n)
        # Positions lo[i]..hi[i]-1 for every query bigram, without a Python loop.
        starts = np.repeat(lo - np.cumsum(lengths) + lengths, lengths)
        pos = starts + np.arange(total)
        shared = np.bincount(self.docs[pos], minlength=n).astype(float)
        return 200.0 * shared / (q.size + self.sizes)


def dice_scores(query: str, docs: list[str]) -> np.ndarray:
    """Bigram Dice similarity (0–100) of ``query`` with each of ``docs``."""
    return BigramIndex.build(docs).dice(query)


class RepeatFinder:
    """Prepared columns of one cases frame; :meth:`find` answers one query."""

    def __init__(self, cases: pd.DataFrame) -> None:
        self.cases = cases
        self.phone = _phones(cases["phone"]) if "phone" in cases else pd.Series(dtype=object)
        names = cases["petitioner"].astype("string[pyarrow]").fillna("").str.strip()
        self.name = names.where(~names.str.contains("*", regex=False), "")
        self.region = cases["region"].astype("string[pyarrow]").fillna("")
        self._parent: dict[str, str] = {}
        if "repeat_of" in cases:
            linked = cases[cases["repeat_of"].fillna("") != ""]
            self._parent = dict(zip(linked["case_id"], linked["repeat_of"], strict=True))
        self._position = {str(k): i for i, k in enumerate(cases["case_id"].tolist())}
        self._region_docs: dict[str, tuple[pd.Index, list[str], BigramIndex]] = {}
        self._lock = threading.Lock()

    def _docs(self, region: str) -> tuple[pd.Index, list[str], BigramIndex]:
        with self._lock:
            hit = self._region_docs.get(region)
        if hit is not None:
            return hit
        sub = self.cases[(self.region == region).to_numpy(dtype=bool, na_value=False)]
        titles = [str(v or "") for v in sub["title"].tolist()]
        contents = sub["content"].tolist()
        body = [compared_text(a, b) for a, b in zip(titles, contents, strict=True)]
        entry = (sub.index, titles, BigramIndex.build(body))
        with self._lock:
            self._region_docs[region] = entry
        return entry

    def original(self, case_id: str) -> str:
        """The first case of a chain of repeats (the case itself when it repeats nothing)."""
        seen = {case_id}
        while case_id in self._parent:
            case_id = self._parent[case_id]
            if case_id in seen:  # a loop typed by hand: stop
                break
            seen.add(case_id)
        return case_id

    def find(self, q: Query, *, limit: int = 8, exclude: Iterable[str] = ()) -> pd.DataFrame:
        """The likeliest earlier matters, best first.

        Cases that are repeats of one original count as one matter, shown as the original:
        ``case_id`` (the original), ``score`` (0–100, the best of the matter's cases),
        ``reasons`` (codes from :data:`REASONS`), ``text_score``, ``matched`` (how many of
        the matter's cases matched), and the original's own columns.
        """
        cases = self.cases
        n = len(cases)
        if n == 0:
            return _empty(cases)
        score = np.zeros(n)
        text = np.zeros(n)
        by_phone = np.zeros(n, bool)
        by_name = np.zeros(n, bool)
        phone = normal_phone(q.phone)
        if len(phone) >= MIN_PHONE_DIGITS:
            by_phone = (self.phone == phone).to_numpy(dtype=bool, na_value=False)
        name = (q.petitioner or "").strip()
        if name and "*" not in name:
            by_name = (self.name == name).to_numpy(dtype=bool, na_value=False)
        title = normal_text(q.title)
        body = compared_text(q.title, q.content)
        if q.region and (len(title) >= MIN_TITLE_CHARS or len(normal_text(body)) >= 8):
            idx, titles, index = self._docs(q.region)
            if len(idx):
                pos = cases.index.get_indexer(idx)
                sims = index.dice(body) if body else np.zeros(len(idx))
                if len(title) >= MIN_TITLE_CHARS:
                    ratio = process.cdist(
                        [q.title],
                        titles,
                        scorer=fuzz.ratio,
                        processor=utils.default_process,
                        dtype=np.float32,
                        workers=1,
                    )[0]
                    sims = np.maximum(sims, ratio)
                text[pos] = sims
        by_text = text >= TEXT_MIN
        score = np.where(by_text, text, score)
        score = np.where(by_name, np.maximum(score, NAME_SCORE + 0.3 * text), score)
        score = np.where(by_phone, PHONE_SCORE, score)
        keep = score > 0
        if exclude:
            keep &= ~cases["case_id"].isin(list(exclude)).to_numpy()
        if not keep.any():
            return _empty(cases)
        sel = np.flatnonzero(keep)
        ids = cases["case_id"].to_numpy()[sel]
        roots = [self.original(str(i)) for i in ids]
        hits = pd.DataFrame(
            {
                "root": roots,
                "score": score[sel],
                "text_score": text[sel],
                "phone": by_phone[sel],
                "name": by_name[sel],
                "text": by_text[sel],
            }
        )
        # An original not visible here (or gone) is shown by its best matching repeat.
        known = np.array([r in self._position for r in roots], dtype=bool)
        hits.loc[~known, "root"] = ids[~known]
        if exclude:
            hits = hits[~hits["root"].isin(list(exclude))]
            if hits.empty:
                return _empty(cases)
        agg = hits.groupby("root", sort=False).agg(
            score=("score", "max"),
            text_score=("text_score", "max"),
            phone=("phone", "any"),
            name=("name", "any"),
            text=("text", "any"),
            matched=("score", "size"),
        )
        out = cases.iloc[[self._position[str(r)] for r in agg.index]].copy()
        out.insert(0, "score", np.round(agg["score"].to_numpy(), 1))
        out.insert(1, "text_score", np.round(agg["text_score"].to_numpy(), 1))
        out.insert(
            2,
            "reasons",
            [
                tuple(r for r, on in zip(REASONS, flags, strict=True) if on)
                for flags in zip(agg["phone"], agg["name"], agg["text"], strict=True)
            ],
        )
        out.insert(3, "matched", agg["matched"].to_numpy())
        out = out.sort_values(["score", "received_at"], ascending=[False, False])
        return out.head(limit).reset_index(drop=True)


def _empty(cases: pd.DataFrame) -> pd.DataFrame:
    out = cases.iloc[0:0].copy()
    out.insert(0, "score", pd.Series(dtype=float))
    out.insert(1, "text_score", pd.Series(dtype=float))
    out.insert(2, "reasons", pd.Series(dtype=object))
    out.insert(3, "matched", pd.Series(dtype="int64"))
    return out


# One prepared finder per cases frame while that frame lives (a snapshot is reused across page
# runs until the register changes, so the preparation is paid once per change).
_finders: dict[int, tuple[weakref.ref, RepeatFinder]] = {}
_finders_lock = threading.Lock()


def finder_for(cases: pd.DataFrame) -> RepeatFinder:
    """The cached :class:`RepeatFinder` of this frame object."""
    key = id(cases)
    with _finders_lock:
        hit = _finders.get(key)
        if hit is not None and hit[0]() is cases:
            return hit[1]
        for k in [k for k, (ref, _) in _finders.items() if ref() is None]:
            del _finders[k]
    finder = RepeatFinder(cases)
    with _finders_lock:
        _finders[key] = (weakref.ref(cases), finder)
    return finder


def find_repeats(
    cases: pd.DataFrame,
    *,
    phone: str = "",
    petitioner: str = "",
    region: str = "",
    title: str = "",
    content: str = "",
    limit: int = 8,
    exclude: Iterable[str] = (),
) -> pd.DataFrame:
    """Likely earlier cases of the same matter as the new message, best first (see module doc)."""
    q = Query(phone=phone, petitioner=petitioner, region=region, title=title, content=content)
    if not any((phone, petitioner, title, content)):
        return _empty(cases)
    return finder_for(cases).find(q, limit=limit, exclude=exclude)
