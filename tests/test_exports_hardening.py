"""SPEC §12 CSV: every cell quoted; formula triggers escaped also after a separator (finding 9)."""

import csv
import io
import re

import pytest

from myapp.exports import safe_cell

TRIGGER = re.compile(r"""^[ "]*[=+\-@\t\r]""")


def test_every_cell_is_quoted_numbers_and_header_too(client, make_user):
    make_user("alice", posts=1)
    lines = client.get("/users.csv").get_data(as_text=True).splitlines()
    assert lines[0] == '"id","username","email","posts","created_at"'
    cells = lines[1].split(",")
    assert all(cell.startswith('"') and cell.endswith('"') for cell in cells), lines[1]


@pytest.mark.parametrize(
    "title",
    [
        "Report;=1+2",
        "Report,=1+2",
        "a; =cmd|/C calc!A0",
        'a;"=1+2',
        "a;;@SUM(A1)",
        "x;-2+3",
        "x;+1",
        "x;\t=1",
    ],
)
def test_a_formula_after_a_separator_is_escaped_for_any_list_separator(client, make_user, make_post, title):
    """Excel with ";" (or ",") as its list separator splits a cell there: no piece may be a formula."""
    make_post(make_user("alice"), title)
    text = client.get("/posts.csv").get_data(as_text=True)
    row = list(csv.reader(io.StringIO(text)))[1]
    assert row[1].replace("'", "") == title  # only quotes were added
    line = text.splitlines()[1]
    for separator in ",;":
        pieces = line.split(separator)  # what a spreadsheet that ignores the quotes would see
        assert not [p for p in pieces if TRIGGER.match(p.strip('"') if p.startswith('"') else p)], pieces


def test_a_semicolon_report_is_one_quoted_cell(client, make_user, make_post):
    make_post(make_user("alice"), "Report;=1+2")
    line = client.get("/posts.csv").get_data(as_text=True).splitlines()[1]
    assert '"Report;\'=1+2"' in line


def test_safe_cell_keeps_ordinary_text():
    assert safe_cell("a=b, c-d; e@f") == "a=b, c-d; e@f"
    assert safe_cell("line one\n- item") == "line one\n- item"  # line breaks stay inside the cell
    assert safe_cell("Report;=1+2") == "Report;'=1+2"
    assert safe_cell("=1;=2") == "'=1;'=2"
