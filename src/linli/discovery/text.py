"""Chinese and Latin text to search tokens, pure Python (jieba + pypinyin, no Django).

One alphabet on both sides of the index: a token is a run of lowercase ASCII letters and
digits, or of Han characters. Anything else (punctuation, spaces, emoji) separates tokens,
so a token can be written into an SQLite FTS5 or PostgreSQL tsquery string without quoting
problems, and both databases see exactly the same lexemes.

What a text is indexed under (`index_tokens`):
- Latin and digit words as they are ("wagas", "711").
- Every Han run as its characters and overlapping character bigrams, so any substring is
  found: one character directly, two or more as an AND of bigrams ("鸡丁" finds 宫保鸡丁
  although jieba cuts it 宫保鸡/丁).
- Pinyin of the run and of each jieba word (lcut_for_search granularity) of two or more
  characters: full ("maidanglao") and initials ("mdl"). Syllables come from the whole run,
  so polyphones read in context.

What a query asks for (`query_terms`): Latin words (also as a prefix when two or more
characters long, so "maidang" finds maidanglao), the bigrams of each Han run, or a single
Han character. Han matching is substring matching, so it is always "exact".
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jieba

HAN = "\u3400-\u4dbf\u4e00-\u9fff"
_WORD = re.compile(f"[{HAN}]+|[a-z0-9]+")
_HAN_RUN = re.compile(f"[{HAN}]+")
TOKEN = re.compile(f"^(?:[{HAN}]+|[a-z0-9]+)$")
MAX_TOKEN_CHARS = 48  # longer Latin words (pasted URLs, serial numbers) are not worth indexing
MAX_QUERY_TERMS = 8  # a 50-character query must not become a 49-way AND

_jieba_lock = threading.Lock()
_jieba_ready = False


def _segmenter() -> jieba.Tokenizer:
    """jieba's default tokenizer, loaded once and quietly (it logs at INFO by default).

    The dictionary ships inside the package; jieba only writes its parsed-dictionary
    cache under the temp directory on first use. It never downloads anything.

    Imported here, not at the top: only indexing segments text, and the dictionary costs
    ~65 MB per process. A web worker that leaves indexing to the Celery worker
    (settings.LINLI_SEARCH_INLINE_REFRESH off) never loads it, nor pypinyin's ~57 MB
    (`pinyin_syllables`): parsing a query needs neither.
    """
    import jieba

    global _jieba_ready
    if not _jieba_ready:
        with _jieba_lock:
            if not _jieba_ready:
                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba_ready = True
    return jieba.dt


@dataclass(frozen=True)
class QueryTerm:
    token: str
    prefix: bool  # also match tokens that start with `token`

    @property
    def is_latin(self) -> bool:
        return self.token.isascii()


def normalise(text: str) -> str:
    """Full-width to half-width (NFKC), lowercase, single spaces, trimmed."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def is_han(token: str) -> bool:
    return bool(_HAN_RUN.fullmatch(token))


def pinyin_syllables(han: str) -> list[str]:
    """One toneless syllable per character ("绿" -> "lv"), read in context."""
    from pypinyin import Style, lazy_pinyin  # ~57 MB of phrase dictionary: see _segmenter

    syllables = lazy_pinyin(han, style=Style.NORMAL, v_to_u=False)
    if len(syllables) != len(han):  # never expected for a pure Han run; be safe anyway
        syllables = [lazy_pinyin(ch, style=Style.NORMAL)[0] for ch in han]
    return [s if s.isascii() and s.isalnum() else "" for s in syllables]


def pinyin_full(han: str) -> str:
    return "".join(pinyin_syllables(han))


def pinyin_initials(han: str) -> str:
    return "".join(s[0] for s in pinyin_syllables(han) if s)


def _han_tokens(run: str, out: dict[str, None]) -> None:
    for i in range(len(run)):
        out[run[i]] = None
        if i + 1 < len(run):
            out[run[i:i + 2]] = None
    syllables = pinyin_syllables(run)

    def add_pinyin(start: int, end: int) -> None:
        part = syllables[start:end]
        full = "".join(part)
        if full:
            out[full] = None
        if end - start >= 2:
            initials = "".join(s[0] for s in part if s)
            if len(initials) >= 2:
                out[initials] = None

    add_pinyin(0, len(run))
    if len(run) > 2:
        for _word, start, end in _segmenter().tokenize(run, mode="search"):
            if end - start >= 2 and (start, end) != (0, len(run)):
                add_pinyin(start, end)


@lru_cache(maxsize=200_000)
def index_tokens(text: str) -> tuple[str, ...]:
    """The distinct tokens a text is found by, in first-seen order.

    Cached: menus repeat the same dish names across thousands of stores.
    """
    out: dict[str, None] = {}
    for match in _WORD.finditer(normalise(text)):
        word = match.group()
        if word.isascii():
            if len(word) <= MAX_TOKEN_CHARS:
                out[word] = None
        else:
            _han_tokens(word, out)
    return tuple(out)


def query_terms(text: str) -> list[QueryTerm]:
    """What every matching document must contain (AND), deduplicated, at most
    MAX_QUERY_TERMS."""
    terms: dict[str, QueryTerm] = {}
    for match in _WORD.finditer(normalise(text)):
        word = match.group()
        if word.isascii():
            word = word[:MAX_TOKEN_CHARS]
            terms.setdefault(word, QueryTerm(word, prefix=len(word) >= 2))
        elif len(word) == 1:
            terms.setdefault(word, QueryTerm(word, prefix=False))
        else:
            for i in range(len(word) - 1):
                bigram = word[i:i + 2]
                terms.setdefault(bigram, QueryTerm(bigram, prefix=False))
    return list(terms.values())[:MAX_QUERY_TERMS]


def query_latin_words(text: str) -> list[str]:
    """The Latin words of a query, for typo correction and "mai dang lao" -> maidanglao."""
    return [w for w in _WORD.findall(normalise(text)) if w.isascii()]


def query_has_han(text: str) -> bool:
    return bool(_HAN_RUN.search(normalise(text)))


def latin_words_replace(text: str, replacements: dict[str, str]) -> str:
    """The normalised query with some Latin words swapped (typo corrections)."""
    return _WORD.sub(lambda m: replacements.get(m.group(), m.group()), normalise(text))
