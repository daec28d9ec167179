"""Labelled rows read from a city's history: a CSV file, plain or gzip-compressed."""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from onegrid.core.errors import InvalidInput
from onegrid.dispatch.classifier.features import compose

_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class DataSource:
    """A file some training rows came from, with its sha256 at training time; or the
    operators' corrections, with the fingerprint of their rows and the newest correction's id
    (``through_id``): the same model is trained again from the corrections up to that id. On
    PostgreSQL that id is an upper bound, not a snapshot (a lower id may commit after training
    read the table, ADR 0005): the fingerprint is what says the rows are the same."""

    path: str
    sha256: str
    rows: int
    through_id: int | None = None

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"path": self.path, "sha256": self.sha256, "rows": self.rows}
        if self.through_id is not None:
            out["through_id"] = self.through_id
        return out


@dataclass(frozen=True)
class LabelledData:
    """Texts with their labels, where they came from, and how many rows had no text or label."""

    texts: list[str]
    labels: list[str]
    sources: tuple[DataSource, ...]
    skipped: int = 0

    def __add__(self, other: LabelledData) -> LabelledData:
        return LabelledData(
            self.texts + other.texts,
            self.labels + other.labels,
            self.sources + other.sources,
            self.skipped + other.skipped,
        )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_labelled_csv(
    path: Path,
    *,
    text_col: str,
    label_col: str,
    text_col2: str | None = None,
    encoding: str = "utf-8",
    title_weight: int = 1,
) -> LabelledData:
    """Rows of ``path`` as (text, label); with ``text_col2`` the text is ``text_col`` as a title
    and ``text_col2`` as the body. Rows without a text or a label are skipped and counted."""
    texts: list[str] = []
    labels: list[str] = []
    skipped = 0
    with _rows(path, encoding) as reader:
        header = reader.fieldnames
        if not header:
            raise InvalidInput.one("file", "empty", f"{path} is empty: no header row")
        wanted = [c for c in (text_col, text_col2, label_col) if c is not None]
        missing = [c for c in wanted if c not in header]
        if missing:
            raise InvalidInput.one(
                "file",
                "column",
                f"{path} has no column {', '.join(map(repr, missing))}; "
                f"its columns are {', '.join(map(repr, header))}",
            )
        for row in reader:
            title = row.get(text_col) or ""
            body = (row.get(text_col2) or "") if text_col2 else ""
            label = (row.get(label_col) or "").strip()
            text = compose(title, body, title_weight=title_weight) if text_col2 else title
            if not label or not text.strip():
                skipped += 1
                continue
            texts.append(text)
            labels.append(label)
    if not texts:
        raise InvalidInput.one(
            "file", "empty", f"{path} has no row with both a text and a label ({skipped} without)"
        )
    source = DataSource(str(path.resolve()), file_sha256(path), len(texts))
    return LabelledData(texts, labels, (source,), skipped)


@contextmanager
def _rows(path: Path, encoding: str) -> Iterator[csv.DictReader[str]]:
    if not path.is_file():
        raise InvalidInput.one("file", "exists", f"{path} does not exist or is not a file")
    with path.open("rb") as probe:
        compressed = probe.read(2) == _GZIP_MAGIC
    # utf-8-sig also reads files that spreadsheet programs saved with a byte-order mark.
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        "".encode(codec)
    except LookupError:
        raise InvalidInput.one("encoding", "known", f"unknown encoding {encoding!r}") from None
    raw: TextIO = (
        gzip.open(path, "rt", encoding=codec, newline="")  # noqa: SIM115
        if compressed
        else path.open(encoding=codec, newline="")
    )
    reader = csv.DictReader(raw)
    try:
        yield reader
    except UnicodeError as exc:  # UnicodeDecodeError, or a codec's own complaint (UTF-16 BOM)
        reason = exc.reason if isinstance(exc, UnicodeDecodeError) else str(exc)
        line = _first_undecodable_line(path, compressed, codec)
        raise InvalidInput.one(
            "file",
            "encoding",
            f"{path} is not {encoding} text (line {line}: {reason}); "
            "name its encoding, e.g. --encoding gb18030",
        ) from None
    except csv.Error as exc:
        raise InvalidInput.one(
            "file", "csv", f"{path} line {reader.line_num}: not valid CSV: {exc}"
        ) from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise InvalidInput.one("file", "gzip", f"{path} is a damaged gzip file: {exc}") from None
    finally:
        raw.close()


def _first_undecodable_line(path: Path, compressed: bool, codec: str) -> int:
    """The physical line where decoding fails; the reader decodes in blocks, so it cannot say."""
    decoder = codecs.getincrementaldecoder(codec)()
    with gzip.open(path, "rb") if compressed else path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            try:
                decoder.decode(line)
            except UnicodeError:
                return number
    return 1
