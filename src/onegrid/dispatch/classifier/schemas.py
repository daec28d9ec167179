"""The API's shapes of the operators' corrections (texts as kept: numbers and e-mail addresses
masked)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from onegrid.dispatch.classifier.queries import CorrectionPage, KeptCorrection

_CORRECTION_EXAMPLE: dict[str, Any] = {
    "id": 118,
    "model": "default",
    "decided_at": "2026-03-02T01:00:00Z",
    "decided_by": "user:32",
    "call_id": 57,
    "case_id": 1042,
    "text": "我是王先生，电话 0 0 0，人民路0号门口垃圾堆积三天无人清理",
    "suggested_category": "E0103",
    "suggested_confidence": 0.62,
    "chosen_category": "E0102",
    "confirmed": False,
    "model_version": "2026.11.30-1",
}


class CorrectionOut(BaseModel):
    """An operator's choice of category for a text, beside what the classifier suggested."""

    model_config = ConfigDict(json_schema_extra={"examples": [_CORRECTION_EXAMPLE]})

    id: int
    model: str = Field(description="The classifier it trains: one directory of versions")
    decided_at: datetime
    decided_by: str = Field(description="The operator's actor id, or 'console'")
    call_id: int | None
    case_id: int | None
    text: str = Field(
        description="What was said, every number (in digits, or four or more Chinese numerals) "
        "written as one 0 and every e-mail address as [email]"
    )
    suggested_category: str | None
    suggested_confidence: float | None
    chosen_category: str
    confirmed: bool = Field(description="The operator kept the suggestion")
    model_version: str | None

    @classmethod
    def of(cls, kept: KeptCorrection) -> CorrectionOut:
        return cls(
            id=kept.id,
            model=kept.model,
            decided_at=kept.decided_at,
            decided_by=kept.decided_by,
            call_id=kept.call_id,
            case_id=kept.case_id,
            text=kept.text,
            suggested_category=kept.suggested_category,
            suggested_confidence=kept.suggested_confidence,
            chosen_category=kept.chosen_category,
            confirmed=kept.confirmed,
            model_version=kept.model_version,
        )


class CorrectionPageOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [_CORRECTION_EXAMPLE], "next_cursor": "MTE4"}],
        }
    )

    items: list[CorrectionOut]
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next page; null on the last page."
    )

    @classmethod
    def of(cls, page: CorrectionPage) -> CorrectionPageOut:
        return cls(items=[CorrectionOut.of(k) for k in page.items], next_cursor=page.next_cursor)
