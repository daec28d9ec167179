"""The fast CSV path (Arrow's reader) gives the same batches and errors as the exact one (the csv
module), and is taken whenever it can number lines exactly."""

from __future__ import annotations

import csv
import io
import itertools
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from onegrid.assets import sources
from onegrid.assets.sources import RawBatch, read_csv
from onegrid.core.errors import InvalidInput

HEADER = "id,name,class_code,lon,lat,owner,state,note"
ROW = "3205080101000{n:03d},井盖{n},C0101,120.{n:03d},31.2,water,normal,"


@dataclass
class Outcome:
    batches: list[RawBatch]
    error: list[tuple[str, str, str]] | None
    fell_back: bool


def rows(count: int, start: int = 1) -> list[str]:
    return [ROW.format(n=n % 1000) for n in range(start, start + count)]


def csv_file(tmp_path: Path, lines: list[str], end: str = "\n", head: bytes = b"") -> Path:
    path = tmp_path / "components.csv"
    path.write_bytes(head + end.join(lines).encode() + end.encode())
    return path


def read(
    monkeypatch: pytest.MonkeyPatch,
    path: Path,
    *,
    exact: bool,
    batch_size: int = 7,
    mapping: dict[str, str] | None = None,
    encoding: str = "utf-8-sig",
) -> Outcome:
    """Every batch ``read_csv`` gives and the error it ends with, on one path or the other."""
    fell_back = False
    exact_reader = sources._read_csv_exact

    def spied(*args: Any) -> Iterator[RawBatch]:
        nonlocal fell_back
        fell_back = True
        return exact_reader(*args)

    with monkeypatch.context() as patch:
        # Small Arrow blocks, so that rows, wrong rows and blank lines straddle several.
        patch.setattr(sources, "ARROW_BLOCK", 512)
        patch.setattr(sources, "_read_csv_exact", spied)
        if exact:
            patch.setattr(sources, "fast_csv_plan", lambda *_: None)
        batches: list[RawBatch] = []
        try:
            batches.extend(read_csv(path, mapping or {}, batch_size, encoding=encoding))
        except InvalidInput as exc:
            problems = [(p.field, p.rule, p.message) for p in exc.problems]
            return Outcome(batches, problems, fell_back)
    return Outcome(batches, None, fell_back)


def assert_same(
    monkeypatch: pytest.MonkeyPatch, path: Path, *, falls_back: bool = False, **options: Any
) -> Outcome:
    assert sources.fast_csv_plan(path, options.get("mapping") or {}, "utf-8-sig") is not None
    fast = read(monkeypatch, path, exact=False, **options)
    exact = read(monkeypatch, path, exact=True, **options)
    assert fast.batches == exact.batches
    assert fast.error == exact.error
    assert fast.fell_back is falls_back
    return exact


def test_plain_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exact = assert_same(monkeypatch, csv_file(tmp_path, [HEADER, *rows(100)]))
    assert [b.lines[0] for b in exact.batches[:3]] == [2, 9, 16]
    assert sum(map(len, exact.batches)) == 100
    assert exact.batches[0].columns["owner"][0] == "water"


@pytest.mark.parametrize("end", ["\r\n", "\r"])
def test_crlf_and_cr_line_ends_and_a_byte_order_mark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, end: str
) -> None:
    path = csv_file(tmp_path, [HEADER, *rows(50)], end=end, head=b"\xef\xbb\xbf")
    exact = assert_same(monkeypatch, path)
    assert exact.batches[-1].lines[-1] == 51


@pytest.mark.parametrize("end", ["\n", "\r\n"])
def test_blank_lines_count_as_lines_and_give_no_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, end: str
) -> None:
    lines = [HEADER, *rows(10), "", "", *rows(5), *[""] * 20, *rows(30), "", ""]
    exact = assert_same(monkeypatch, csv_file(tmp_path, lines, end=end))
    numbered = [n for b in exact.batches for n in b.lines]
    assert numbered[10] == 14 and numbered[-1] == 68
    assert any(len(b) == 0 for b in exact.batches)  # seven blank lines in a row fill a batch


def test_rows_of_the_wrong_width_are_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [HEADER, *rows(20), "a,b", *rows(40), "1,2,3,4,5,6,7,8,9", "   ", *rows(3), "x"]
    exact = assert_same(monkeypatch, csv_file(tmp_path, lines))
    problems = [(p.line, p.field, p.rule, p.message) for b in exact.batches for p in b.problems]
    assert problems == [
        (22, "line", "field_count", "line has 2 fields, the header has 8"),
        (63, "line", "field_count", "line has 9 fields, the header has 8"),
        (64, "line", "field_count", "line has 1 fields, the header has 8"),
        (68, "line", "field_count", "line has 1 fields, the header has 8"),
    ]


def test_every_row_of_a_batch_wrong(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert_same(monkeypatch, csv_file(tmp_path, [HEADER, *rows(3), *["a,b"] * 30, *rows(3)]))


def test_spaces_and_empty_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [
        HEADER,
        " 3205080101000001 , 井盖 ,C0101,\t120.1 ,31.2\u3000,\xa0water\u2003,normal, ",
        "3205080101000002,,,,,,,",
        " , , , , , , , ",
        *rows(10),
    ]
    exact = assert_same(monkeypatch, csv_file(tmp_path, lines))
    first = exact.batches[0].columns
    assert (first["id"][0], first["lat"][0], first["owner"][0]) == (
        "3205080101000001",
        "31.2",
        "water",
    )
    assert first["lon"][1:3] == ["", ""]


def test_lines_of_only_commas_are_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exact = assert_same(monkeypatch, csv_file(tmp_path, [HEADER, *rows(5), ",,,,,,,", *rows(5)]))
    assert exact.batches[0].lines[5] == 7


def test_blank_lines_beside_lines_of_only_commas_fall_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [HEADER, *rows(20), ",,,,,,,", "", *rows(20), ",,,,,,,"]
    exact = assert_same(monkeypatch, csv_file(tmp_path, lines), falls_back=True)
    assert [n for b in exact.batches for n in b.lines][20:22] == [22, 24]


def test_chinese_headings_by_alias_and_mapping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    header = "部件标识码,部件名称,小类代码,经度,纬度,权属单位,X 单位,备注"
    path = csv_file(tmp_path, [header, *rows(30)])
    mapping = {"maintainer": "权属单位", "competent_department": "x 单位"}
    exact = assert_same(monkeypatch, path, mapping=mapping)
    columns = exact.batches[0].columns
    assert columns["maintainer"] == columns["owner"] and columns["maintainer"][0] == "water"
    assert columns["competent_department"][0] == "normal"


def test_invalid_utf8_halfway_is_read_by_the_exact_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = csv_file(tmp_path, [HEADER, *rows(10_000)])
    data = path.read_bytes().split(b"\n")
    data[4_999] = data[4_999].replace("井盖".encode(), b"\xff\xfe", 1)
    path.write_bytes(b"\n".join(data))
    assert sources.fast_csv_plan(path, {}, "utf-8-sig") is None
    fast = read(monkeypatch, path, exact=False, batch_size=1_000)
    exact = read(monkeypatch, path, exact=True, batch_size=1_000)
    assert (fast.batches, fast.error) == (exact.batches, exact.error)
    assert exact.error is not None and exact.error[0][1] == "encoding"
    assert "after line 4" in exact.error[0][2]
    assert len(exact.batches) == 4


@pytest.fixture
def field_limit_300() -> Iterator[None]:
    old = csv.field_size_limit(300)
    yield
    csv.field_size_limit(old)


@pytest.mark.usefixtures("field_limit_300")
@pytest.mark.parametrize("long", [ROW.format(n=1).replace("井盖1", "a" * 400), "x," + "a" * 400])
def test_a_field_longer_than_the_csv_module_reads_is_the_same_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, long: str
) -> None:
    lines = [HEADER, *rows(20), long, *rows(5)]
    exact = assert_same(monkeypatch, csv_file(tmp_path, lines), falls_back=True)
    assert exact.error is not None and exact.error[0][1] == "csv_syntax"
    assert "line 22" in exact.error[0][2] and len(exact.batches) == 2


def test_a_row_longer_than_an_arrow_block_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    long = ROW.format(n=1).replace("井盖1", "井" * 1_000)
    assert_same(
        monkeypatch, csv_file(tmp_path, [HEADER, *rows(5), long, *rows(5)]), falls_back=True
    )


@pytest.mark.parametrize(
    ("content", "encoding"),
    [
        pytest.param(
            f'{HEADER}\n{ROW.format(n=1)}\n"a\nb",,,,,,,\n'.encode(), "utf-8-sig", id="quotes"
        ),
        pytest.param(f"{HEADER}\n{ROW.format(n=1)}\n".encode("gbk"), "gbk", id="gbk"),
        pytest.param(f"{HEADER}\n{ROW.format(n=1)}\n".encode(), "utf-8", id="utf-8 keeps a BOM"),
        pytest.param(b"", "utf-8-sig", id="empty"),
        pytest.param(f"{HEADER}".encode(), "utf-8-sig", id="header without a line end"),
        pytest.param(f"\n{HEADER}\n".encode(), "utf-8-sig", id="blank first line"),
        pytest.param(b"lon,lat\n1,2\n", "utf-8-sig", id="columns missing"),
        pytest.param(b"lon\n1\n\n2\n", "utf-8-sig", id="one column"),
        pytest.param(
            f"{HEADER}\n\ufeff{ROW.format(n=1)}\n".encode(), "utf-8-sig", id="BOM on line 2"
        ),
        pytest.param(b"\xff" + HEADER.encode() + b"\n", "utf-8-sig", id="undecodable header"),
    ],
)
def test_files_only_the_exact_path_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes, encoding: str
) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    assert sources.fast_csv_plan(path, {}, encoding) is None
    outcome = read(monkeypatch, path, exact=False, encoding=encoding)
    assert outcome.fell_back is True


def test_the_fast_path_is_taken_for_a_file_without_quotes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = csv_file(tmp_path, [HEADER, *rows(100)])
    outcome = read(monkeypatch, path, exact=False)
    assert outcome.fell_back is False and sum(map(len, outcome.batches)) == 100


def test_progress_advances_to_the_file_size(tmp_path: Path) -> None:
    path = csv_file(tmp_path, [HEADER, *rows(5_000)])
    seen: list[int] = []
    assert sum(map(len, read_csv(path, {}, 1_000, seen.append))) == 5_000
    assert seen == sorted(seen) and seen[-1] == path.stat().st_size


def test_str_strip_whitespace_is_all_below_u3001() -> None:
    above = [c for c in map(chr, range(0x3001, sys.maxunicode + 1)) if c.isspace()]
    assert above == []
    assert "\u3000" in sources._WHITESPACE and "\x1c" in sources._WHITESPACE


def test_arrow_and_python_agree_on_what_is_utf8() -> None:
    edges = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0]
    edges += [0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF]
    following = [0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0]
    four = itertools.product([0xF0, 0xF1, 0xF3, 0xF4, 0xF5], following, following, following)
    sequences = [*(itertools.product(edges, repeat=n) for n in (1, 2, 3)), four]
    for data in map(bytes, itertools.chain.from_iterable(sequences)):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            assert not sources._is_utf8(data), data
        else:
            assert sources._is_utf8(data), data


@pytest.mark.parametrize("block", [8, 64, 1 << 20])
def test_the_utf8_check_spans_blocks(monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    monkeypatch.setattr(sources, "SCAN_BLOCK", block)
    text = "部件,井盖\r\n" * 50 + "\u3000" * 40 + "\n" + "没有行尾的一行很长的文字" * 3
    assert sources._quote_free_utf8(io.BytesIO(text.encode()))
    assert not sources._quote_free_utf8(io.BytesIO(text.encode()[:-1]))
    assert not sources._quote_free_utf8(io.BytesIO(text.encode() + b'"'))
    assert not sources._quote_free_utf8(io.BytesIO(b"a\n" * 100 + b"\xed\xa0\x80\n" + b"b\n" * 9))
