from questions.extraction import load_document
from questions.extraction.segment import segment, split_sentences


def _sentences(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split_sentences(text, 0, len(text))]


def test_abbreviations_and_initials_do_not_end_sentences():
    text = (
        "Gen. Mark Smith met U.S. officials on Sept. 17, 2021, in Geneva. "
        "Dr. Li, Ph.D., agreed with J.P. Singh. The talks ended early."
    )
    assert _sentences(text) == [
        "Gen. Mark Smith met U.S. officials on Sept. 17, 2021, in Geneva.",
        "Dr. Li, Ph.D., agreed with J.P. Singh.",
        "The talks ended early.",
    ]


def test_questions_and_quotes_end_sentences():
    text = "He asked, “why is it calm?” If so, we wait. Is that true? Yes!"
    assert _sentences(text) == ["He asked, “why is it calm?”", "If so, we wait.", "Is that true?", "Yes!"]


def test_initialism_at_sentence_end_splits_before_a_common_opener():
    assert _sentences("Troops left the U.S. The base closed.") == ["Troops left the U.S.", "The base closed."]


def test_sections_headings_and_list_items_have_exact_offsets():
    raw = b"Main Title\n\nIntro paragraph here. Second sentence.\n\nWhat to Watch\n\n- Whether A happens.\n- Whether B happens.\n"
    doc = load_document(raw)
    seg = segment(doc)
    kinds = [(p.kind, doc.text[p.start : p.end]) for p in seg.paragraphs]
    assert kinds == [
        ("heading", "Main Title"),
        ("para", "Intro paragraph here. Second sentence."),
        ("heading", "What to Watch"),
        ("item", "Whether A happens."),
        ("item", "Whether B happens."),
    ]
    items = [p for p in seg.paragraphs if p.kind == "item"]
    assert all(p.watch and p.enumerated and p.section == "What to Watch" for p in items)
    intro = seg.paragraphs[1]
    assert intro.section == "Main Title" and not intro.watch
    assert [doc.text[s.start : s.end] for s in intro.sentences] == ["Intro paragraph here.", "Second sentence."]


def test_markdown_headings_and_front_matter():
    raw = b"---\ntitle: T\n---\n\n# Big Title\n\nText one.\n\n## Indicators\n\nFirst, watch the vote.\n"
    doc = load_document(raw, filename="x.md")
    seg = segment(doc)
    assert [s.title for s in seg.sections] == ["T", "Big Title", "Indicators"]
    para = [p for p in seg.paragraphs if p.kind == "para"][-1]
    assert para.watch and para.enumerated
    assert all(p.start >= doc.body_start for p in seg.paragraphs)


def test_a_number_or_caption_line_is_not_a_heading():
    doc = load_document(b"Title Here\n\n12345_image (1)\n\nSome body text follows here.")
    seg = segment(doc)
    assert [p.kind for p in seg.paragraphs] == ["heading", "para", "para"]


def test_watch_cue_paragraph_marks_the_enumerated_paragraphs_after_it():
    raw = (
        b"Analysis\n\nThe outlook is murky. There are two things to watch:\n\n"
        b"First, whether the court rules before June.\n\nSecond, whether the minister resigns.\n"
    )
    seg = segment(load_document(raw))
    flags = [(p.enumerated, p.watch) for p in seg.paragraphs if p.kind == "para"]
    assert flags == [(False, False), (True, True), (True, True)]
