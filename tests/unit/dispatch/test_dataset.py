from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from onegrid.core.errors import InvalidInput
from onegrid.dispatch.classifier import file_sha256, read_labelled_csv

CSV = (
    "id,subject,detail,category\n"
    "1,路灯不亮,人民路路灯坏了三天,roads\n"
    "2,Loud music,bar at night,noise\n"
)


def test_reads_plain_and_gzip_alike(tmp_path: Path) -> None:
    plain = tmp_path / "h.csv"
    plain.write_text(CSV, encoding="utf-8")
    packed = tmp_path / "h.csv.gz"
    packed.write_bytes(gzip.compress(CSV.encode("utf-8")))
    a = read_labelled_csv(plain, text_col="subject", label_col="category")
    b = read_labelled_csv(packed, text_col="subject", label_col="category")
    assert a.texts == b.texts == ["路灯不亮", "Loud music"]
    assert a.labels == ["roads", "noise"]
    assert a.sources[0].sha256 == file_sha256(plain)
    assert a.sources[0].rows == 2


def test_two_text_columns_make_title_and_body(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text(CSV, encoding="utf-8")
    data = read_labelled_csv(
        path, text_col="subject", text_col2="detail", label_col="category", title_weight=2
    )
    assert data.texts[0] == "路灯不亮 路灯不亮 人民路路灯坏了三天"


def test_byte_order_mark_and_other_encodings(tmp_path: Path) -> None:
    bom = tmp_path / "bom.csv"
    bom.write_bytes(CSV.encode("utf-8-sig"))
    assert read_labelled_csv(bom, text_col="subject", label_col="category").labels[0] == "roads"
    gb = tmp_path / "gb.csv"
    gb.write_bytes(CSV.encode("gb18030"))
    data = read_labelled_csv(gb, text_col="subject", label_col="category", encoding="gb18030")
    assert data.texts[0] == "路灯不亮"


def test_rows_without_text_or_label_are_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text(CSV + "3,,empty subject,roads\n4,no label,,\n", encoding="utf-8")
    data = read_labelled_csv(path, text_col="subject", label_col="category")
    assert (len(data.texts), data.skipped) == (2, 2)


def test_missing_column_is_named_with_the_columns_there_are(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text(CSV, encoding="utf-8")
    with pytest.raises(InvalidInput, match="has no column 'label'; its columns are 'id', 'subj"):
        read_labelled_csv(path, text_col="subject", label_col="label")


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "is empty: no header row"), (b"subject,category\n", "has no row with both")],
)
def test_empty_files_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "h.csv"
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match=message):
        read_labelled_csv(path, text_col="subject", label_col="category")


def test_undecodable_text_names_the_encoding_and_line(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_bytes(CSV.encode("gb18030"))
    with pytest.raises(InvalidInput, match=r"is not utf-8 text \(line 2: .*--encoding gb18030"):
        read_labelled_csv(path, text_col="subject", label_col="category")


def test_unknown_encoding_missing_file_and_broken_gzip(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text(CSV, encoding="utf-8")
    with pytest.raises(InvalidInput, match="unknown encoding 'klingon'"):
        read_labelled_csv(path, text_col="subject", label_col="category", encoding="klingon")
    with pytest.raises(InvalidInput, match="does not exist"):
        read_labelled_csv(tmp_path / "nope.csv", text_col="subject", label_col="category")
    broken = tmp_path / "h.csv.gz"
    broken.write_bytes(gzip.compress(CSV.encode("utf-8"))[:30])
    with pytest.raises(InvalidInput, match="damaged gzip"):
        read_labelled_csv(broken, text_col="subject", label_col="category")
