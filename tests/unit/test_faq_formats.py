"""Kendra's FAQ file formats are read as Kendra documents them, and bad files name their fault."""

from __future__ import annotations

import json

import pytest

from search.errors import BadRequest
from search.faq import FaqFormat, parse_faq


def test_csv_rows_are_question_answer_and_optional_uri() -> None:
    entries = parse_faq('"Q1, with comma",A1\nQ2,A2,https://x.example/2\n\n', FaqFormat.CSV)
    assert [(e.question, e.answer, e.source_uri) for e in entries] == [
        ("Q1, with comma", "A1", None),
        ("Q2", "A2", "https://x.example/2"),
    ]


def test_csv_with_header_reads_custom_attributes() -> None:
    entries = parse_faq(
        "_question,_answer,_source_uri,lang\nQ,A,https://x.example,fr\n", FaqFormat.CSV_WITH_HEADER
    )
    assert entries[0].source_uri == "https://x.example"
    assert entries[0].attributes == {"lang": "fr"}


def test_json_reads_attributes_and_the_access_control_list() -> None:
    content = json.dumps(
        {
            "SchemaVersion": 1,
            "FaqDocuments": [
                {
                    "Question": "Q",
                    "Answer": "A",
                    "Attributes": {"_source_uri": "https://x.example", "k": "v"},
                    "AccessControlList": [
                        {"Name": "g1", "Type": "GROUP", "Access": "ALLOW"},
                        {"Name": "u1", "Type": "USER", "Access": "ALLOW"},
                    ],
                }
            ],
        }
    )
    (entry,) = parse_faq(content, FaqFormat.JSON)
    assert entry.source_uri == "https://x.example" and entry.attributes == {"k": "v"}
    assert entry.audience_groups == ["g1"] and entry.audience_users == ["u1"]


@pytest.mark.parametrize(
    ("content", "fmt", "named"),
    [
        ("", FaqFormat.CSV, "no question"),
        ("a,b,c,d\n", FaqFormat.CSV, "line 1"),
        ("Q,\n", FaqFormat.CSV, "line 1: answer"),
        ("_question,_answer\nQ\n", FaqFormat.CSV_WITH_HEADER, "line 2"),
        ("[]", FaqFormat.JSON, "FaqDocuments"),
        (
            json.dumps(
                {
                    "FaqDocuments": [
                        {"Question": "Q", "Answer": "A", "AccessControlList": [{"Name": "x"}]}
                    ]
                }
            ),
            FaqFormat.JSON,
            "Type",
        ),
    ],
)
def test_bad_files_name_the_fault(content: str, fmt: FaqFormat, named: str) -> None:
    with pytest.raises(BadRequest, match=named):
        parse_faq(content, fmt)
