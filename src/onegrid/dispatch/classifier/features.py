"""From free text to the string the vectoriser sees, and the vectoriser itself.

Character n-grams serve Chinese and English alike without a word segmenter: a Chinese bigram is
most often a word, and an English word is spelled out by its character n-grams. jieba word tokens
were measured on top of them and lowered macro-F1 (ADR 0005), so there is no segmenter here.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from sklearn.feature_extraction.text import TfidfVectorizer

if TYPE_CHECKING:
    from onegrid.dispatch.classifier.model import ClassifierConfig

# Recorded in the model card: a model is only valid with the normalisation it was trained with.
FEATURES_VERSION = "char-tfidf-v1"

_SPACE = re.compile(r"\s+")
_DIGITS = re.compile(r"[0-9]+")
_ZEROS = re.compile(r"0+")


def normalise(text: str) -> str:
    """Fold width and case, squeeze whitespace, and make every number look alike.

    NFKC turns full-width letters and digits (ＡＢＣ１２３) into ASCII; runs of digits become one
    ``0`` because house numbers, dates and phone numbers say nothing about a category.
    """
    text = unicodedata.normalize("NFKC", text)
    text = _SPACE.sub(" ", text).strip().lower()
    return _DIGITS.sub("0", text)


def _masked(ch: str) -> str:
    folded = unicodedata.normalize("NFKC", ch)
    return _DIGITS.sub("0", folded) if _DIGITS.search(folded) else ch


def mask_digits(text: str) -> str:
    """``text`` with every run of digits written as one ``0``, as ``normalise`` sees them: so a
    kept text holds no phone number, house number or ID and still trains exactly as the text
    it came from (``normalise(mask_digits(t)) == normalise(t)``).

    A digit is whatever NFKC folds to one (１, ¹, ①), or a character whose folded form holds
    one (⒈ is written ``0.``); everything else is kept as written, for a person to read.
    """
    return _ZEROS.sub("0", "".join(_masked(ch) for ch in text))


def compose(title: str, body: str = "", *, title_weight: int = 1) -> str:
    """One text from a title (subject) and a body (detail); the title counts ``title_weight`` times.

    A message's subject is short and dense with the category's words; repeating it raises its
    term frequencies against the long, noisy body (ADR 0005 measures the gain).
    """
    title = title.strip()
    body = body.strip()
    parts = [title] * max(1, title_weight) if title else []
    if body:
        parts.append(body)
    return " ".join(parts)


def build_vectorizer(config: ClassifierConfig) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char",
        ngram_range=(config.ngram_min, config.ngram_max),
        min_df=config.min_df,
        sublinear_tf=config.sublinear_tf,
        lowercase=False,  # normalise() has already folded case
    )
