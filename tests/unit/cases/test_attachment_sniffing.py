"""Attachments are judged by their bytes: the name's extension must agree with the content."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from onegrid.cases.attachments import check_size, sniff
from onegrid.core.errors import InvalidInput


def _image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (6, 6), "blue").save(out, format=fmt)
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.mark.parametrize(
    ("name", "data", "media_type"),
    [
        ("a.jpg", _image("JPEG"), "image/jpeg"),
        ("a.JPEG", _image("JPEG"), "image/jpeg"),
        ("b.png", _image("PNG"), "image/png"),
        ("c.webp", _image("WEBP"), "image/webp"),
        ("d.gif", _image("GIF"), "image/gif"),
        ("e.pdf", PDF, "application/pdf"),
    ],
)
def test_real_files_are_accepted(name: str, data: bytes, media_type: str) -> None:
    assert sniff(data, name) == media_type


@pytest.mark.parametrize(
    ("name", "data", "rule"),
    [
        ("photo.jpg", b"<html>not an image</html>", "attachment_content_type"),
        ("photo.jpg", _image("PNG"), "attachment_content_type"),  # a PNG named .jpg
        ("photo.jpg", _image("JPEG")[:40], "attachment_content_type"),  # truncated
        ("photo.jpg", b"\xff\xd8\xff" + b"\x00" * 100, "attachment_content_type"),  # magic only
        ("doc.pdf", b"%PDF-1.4 no trailer", "attachment_content_type"),
        ("run.exe", b"MZ", "attachment_extension"),
        ("noext", _image("PNG"), "attachment_extension"),
        ("empty.png", b"", "attachment_empty"),
    ],
)
def test_disguised_or_broken_files_are_refused(name: str, data: bytes, rule: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        sniff(data, name)
    assert caught.value.problems[0].rule == rule


def test_size_limit() -> None:
    check_size(10, 10)
    with pytest.raises(InvalidInput) as caught:
        check_size(11, 10)
    assert caught.value.problems[0].rule == "attachment_size"
