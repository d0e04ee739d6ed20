"""Which reviews wait for an operator before they are published (pure Python, no Django).

Three rules, each giving a reason code:
- `sensitive_word`: the text contains a configured word, compared after normalising both
  (NFKC folds full-width letters, digits and spaces; case is ignored; spaces, punctuation
  and symbols put between the characters are dropped: "微 信", "ＶＸ", "v.x" all match);
- `repeated_text`: the text is (nearly) the same as a recent review by the same user or
  by others (character-bigram Dice similarity ≥ 0.9; texts shorter than 8 normalised
  characters are exempt, "好吃" is said by everyone);
- `new_account_burst`: the author's account is younger than `new_account_days` and new
  accounts already wrote `burst_limit` or more reviews of this store in the last hour.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

SENSITIVE_WORD = "sensitive_word"
REPEATED_TEXT = "repeated_text"
NEW_ACCOUNT_BURST = "new_account_burst"

SIMILARITY_THRESHOLD = 0.9
MIN_REPEAT_LENGTH = 8


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, without whitespace, punctuation or symbols."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] not in "ZPSC")


def sensitive_words_in(text: str, words: Iterable[str]) -> list[str]:
    """The configured words found in the text, as configured."""
    plain = normalise(text)
    return [w for w in words if normalise(w) and normalise(w) in plain]


def _bigrams(text: str) -> list[str]:
    return [text[i:i + 2] for i in range(len(text) - 1)] if len(text) > 1 else [text]


def similarity(a: str, b: str) -> float:
    """Dice coefficient of the normalised texts' character bigrams (multiset), in [0, 1]."""
    x, y = _bigrams(normalise(a)), _bigrams(normalise(b))
    if not x or not y:
        return 0.0
    rest = list(y)
    common = 0
    for gram in x:
        if gram in rest:
            rest.remove(gram)
            common += 1
    return 2 * common / (len(x) + len(y))


def is_repeat(text: str, earlier: Iterable[str], *, threshold: float = SIMILARITY_THRESHOLD) -> bool:
    if len(normalise(text)) < MIN_REPEAT_LENGTH:
        return False
    return any(similarity(text, other) >= threshold for other in earlier)


def is_burst(*, account_age_days: float, new_account_reviews_last_hour: int, new_account_days: int,
             burst_limit: int) -> bool:
    return account_age_days < new_account_days and new_account_reviews_last_hour >= burst_limit


@dataclass(frozen=True)
class Rules:
    words: Sequence[str] = ()
    new_account_days: int = 7
    burst_limit: int = 3


@dataclass(frozen=True)
class Submission:
    """What the rules look at: the text, the author's recent texts and others' recent
    texts, the account's age and how many reviews new accounts wrote of the store lately."""

    text: str
    own_recent_texts: Sequence[str] = ()
    others_recent_texts: Sequence[str] = ()
    account_age_days: float = 365.0
    new_account_reviews_last_hour: int = 0


@dataclass(frozen=True)
class Verdict:
    reasons: tuple[str, ...] = field(default_factory=tuple)
    words: tuple[str, ...] = field(default_factory=tuple)

    @property
    def hold(self) -> bool:
        return bool(self.reasons)


def review_verdict(submission: Submission, rules: Rules) -> Verdict:
    reasons: list[str] = []
    words = sensitive_words_in(submission.text, rules.words)
    if words:
        reasons.append(SENSITIVE_WORD)
    if is_repeat(submission.text, [*submission.own_recent_texts, *submission.others_recent_texts]):
        reasons.append(REPEATED_TEXT)
    if is_burst(account_age_days=submission.account_age_days,
                new_account_reviews_last_hour=submission.new_account_reviews_last_hour,
                new_account_days=rules.new_account_days, burst_limit=rules.burst_limit):
        reasons.append(NEW_ACCOUNT_BURST)
    return Verdict(reasons=tuple(reasons), words=tuple(words))
