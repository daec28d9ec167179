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
# An e-mail address, as typed (ASCII) or in full-width forms (ｗａｎｇ＠ｑｑ．ｃｏｍ).
_EMAIL = re.compile(
    r"[A-Za-z0-9._%+\-Ａ-Ｚａ-ｚ０-９．＿％＋－]+[@＠]"
    r"[A-Za-z0-9\-Ａ-Ｚａ-ｚ０-９－]+(?:[.．][A-Za-z0-9\-Ａ-Ｚａ-ｚ０-９－]+)+"
)
EMAIL_MASK = "[email]"
# A number read out in Chinese (一三八一二三四五六七八, 幺 for 一 and 两 for 二 as callers say
# them), with the 0 a masked run of digits left beside it: four or more in a row is a phone
# number, a house number or an ID, while words such as 一个 or 两个 are shorter.
_CHINESE_NUMBER = re.compile(r"[0〇零一二三四五六七八九幺两]{4,}")


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


def mask_personal(text: str) -> str:
    """``text`` as kept for training and read over the API: ``mask_digits``, and besides every
    e-mail address written ``[email]`` and every run of four or more Chinese numerals
    (一三八…) written as one ``0``, as a number in digits is. Masking twice changes nothing.

    Unlike ``mask_digits`` this changes what the classifier reads, a little: an address or a
    number read out says nothing about a category, and a caller's words are personal data.
    """
    # In this order, so that nothing masked forms a new number or address (①@qq.com is an
    # address only once ① is a 0); a run is maximal, so its 0 never touches another 0.
    return _EMAIL.sub(EMAIL_MASK, _CHINESE_NUMBER.sub("0", mask_digits(text)))


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
