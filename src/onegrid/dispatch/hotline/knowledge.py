"""The knowledge base of prepared answers (知识库): loaded from a data file, searched by text.

A city's base holds hundreds to a few thousand answers, so a search scores every answer in
Python (keyword hits, then bigram similarity with the question) rather than keeping a
full-text index per database.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onegrid.core.clock import Clock
from onegrid.core.errors import FieldProblem, InvalidInput, NotFound
from onegrid.core.yamlfile import read_yaml
from onegrid.dispatch.duplicates.domain import bigrams, similarity
from onegrid.dispatch.models import KnowledgeAnswerRow

MIN_SCORE = 0.2


@dataclass(frozen=True)
class Answer:
    id: int
    code: str
    question: str
    answer: str
    keywords: tuple[str, ...]
    score: float = 0.0


def _answer(row: KnowledgeAnswerRow, score: float = 0.0) -> Answer:
    keywords = tuple(k for k in row.keywords.split("|") if k)
    return Answer(row.id, row.code, row.question, row.answer, keywords, round(score, 4))


def _entries(data: dict[str, Any]) -> list[dict[str, Any]]:
    problems: list[FieldProblem] = []
    entries = data.get("answers")
    if not isinstance(entries, list):
        raise InvalidInput.one("answers", "list", "the file holds a list under 'answers'")
    seen: set[str] = set()
    for i, e in enumerate(entries):
        for name in ("code", "question", "answer"):
            if not isinstance(e, dict) or not str(e.get(name) or "").strip():
                problems.append(FieldProblem(f"answers[{i}].{name}", "required", "missing"))
        if isinstance(e, dict) and e.get("code") in seen:
            problems.append(FieldProblem(f"answers[{i}].code", "unique", "code used twice"))
        if isinstance(e, dict):
            seen.add(str(e.get("code")))
    if problems:
        raise InvalidInput(problems)
    return entries


def load_answers(session: Session, path: Path, clock: Clock) -> int:
    """Add or replace the answers of the file (by code); returns how many were written."""
    entries = _entries(read_yaml(path))
    existing = {r.code: r for r in session.scalars(select(KnowledgeAnswerRow))}
    now = clock.now()
    for e in entries:
        row = existing.get(e["code"]) or KnowledgeAnswerRow(code=e["code"])
        row.question = str(e["question"]).strip()[:500]
        row.answer = str(e["answer"]).strip()
        row.keywords = "|".join(str(k).strip() for k in e.get("keywords") or ())[:500]
        row.source = path.name[:200]
        row.updated_at = now
        session.add(row)
    session.flush()
    return len(entries)


def _score(text: str, grams: frozenset[str], row: KnowledgeAnswerRow) -> float:
    lowered = text.lower()
    keywords = [k for k in row.keywords.split("|") if k]
    hits = sum(1 for k in keywords if k.lower() in lowered)
    keyword_part = min(1.0, hits / 2) if keywords else 0.0
    return 0.6 * keyword_part + 0.4 * similarity(grams, bigrams(row.question))


def search_answers(session: Session, text: str, limit: int = 5) -> list[Answer]:
    """The answers that best match ``text``, best first (those scoring under 0.2 left out)."""
    text = text.strip()
    if not text:
        raise InvalidInput.one("q", "required", "give some words of the question")
    grams = bigrams(text)
    scored = [(_score(text, grams, r), r) for r in session.scalars(select(KnowledgeAnswerRow))]
    scored = [(s, r) for s, r in scored if s >= MIN_SCORE]
    scored.sort(key=lambda p: (-p[0], p[1].code))
    return [_answer(r, s) for s, r in scored[:limit]]


def get_answer(session: Session, answer_id: int) -> Answer:
    row = session.get(KnowledgeAnswerRow, answer_id)
    if row is None:
        raise NotFound(f"no knowledge-base answer {answer_id}")
    return _answer(row)
