import datetime

import pytest

from questions.extraction import ExtractionInputError, load_document

from .helpers import read_text_file


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "input is empty"),
        (b"   \n\t\n  ", "only whitespace"),
        (b"\xef\xbb\xbf \n", "only whitespace"),
        (b"An article\xff about ports", "not UTF-8 text (invalid byte 0xff at offset 10)"),
        (b"caf\xc3", "invalid byte 0xc3 at offset 3"),
        (b"text\x00with\x00nuls", "binary (NUL byte at offset 4)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "PNG image"),
        (b"%PDF-1.7\n%\xe2\xe3", "PDF document"),
        ("UTF-16 text".encode("utf-16"), "UTF-16"),
        (bytes(range(1, 32)) * 20, "control characters"),
    ],
)
def test_unreadable_input_raises_one_line_reason(data, fragment):
    with pytest.raises(ExtractionInputError) as info:
        load_document(data)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message
    assert isinstance(info.value, ValueError)


def test_html_without_visible_text_is_empty():
    with pytest.raises(ExtractionInputError, match="empty"):
        load_document(b"<html><head><title>x</title></head><body><script>1</script></body></html>")


def test_bom_is_dropped_and_line_endings_normalised():
    doc = load_document(b"\xef\xbb\xbfTitle line\r\n\r\nBody text here.\rMore.")
    assert doc.text == "Title line\n\nBody text here.\nMore."
    assert doc.format == "text"


def test_plain_text_byline_and_date_are_read_from_the_head():
    doc = load_document(read_text_file("news_analysis.txt"), filename="news_analysis.txt")
    assert doc.title == "Harbour Authority Weighs Its Options as Shipping Slows"
    assert doc.author == "Maria Okafor"
    assert doc.published == datetime.date(2024, 3, 4)


def test_markdown_is_kept_verbatim_and_front_matter_read():
    raw = read_text_file("think_tank_brief.md")
    doc = load_document(raw, filename="brief.md")
    assert doc.format == "markdown"
    assert doc.text == raw.decode("utf-8")
    assert doc.title == "Lithium and the Andes: A Policy Brief"
    assert doc.author == "Dana Whitlock"
    assert doc.published == datetime.date(2023, 6, 12)
    assert doc.body_start > 0 and doc.text[: doc.body_start].startswith("---\n")


def test_markdown_is_detected_without_a_filename():
    doc = load_document(b"# A heading\n\nSome text with a [link](http://x.test) and more.\n\n- item one\n- item two\n")
    assert doc.format == "markdown"


def test_html_becomes_plain_text_without_scripts_navigation_or_entities():
    doc = load_document(read_text_file("sanctions_brief.html"))
    assert doc.format == "html"
    assert doc.title == "The Nile Water Talks After the Fourth Filling"
    assert doc.author == "Samir Haddad"
    assert doc.published == datetime.date(2023, 9, 18)
    assert "Egypt & Sudan" in doc.text
    assert "tracking" not in doc.text and "font-family" not in doc.text
    assert "Home" not in doc.text  # <nav> is boilerplate
    assert "<" not in doc.text
    headings = [doc.text[s:e] for s, e in doc.headings]
    assert headings == ["The Nile Water Talks After the Fourth Filling", "The sticking points", "What to watch"]
    assert "- Whether the three countries sign" in doc.text


def test_html_is_detected_by_content_and_by_extension():
    assert load_document(b"<p>One.</p><p>Two.</p><p>Three.</p>").format == "html"
    assert load_document(b"Plain words only.", filename="page.HTML").format == "html"


def test_text_with_no_metadata_has_none():
    doc = load_document(b"the first line ends with a period.\n\nSecond paragraph.")
    assert doc.author is None and doc.published is None


def test_load_document_rejects_str():
    with pytest.raises(TypeError):
        load_document("not bytes")  # type: ignore[arg-type]
