"""csv_line_sql(cells): a row as one line of CSV text, written by the database itself.

The exports (myapp/exports.py) stream millions of rows. Made in Python, cell by cell, a line cost
more than the row took to read; made by the database in the same query, Python only joins lines.
The line is what exports.csv_line writes, without its CRLF: every cell quoted, quotes doubled, NULL
empty; and a text cell that starts with a formula trigger is prefixed with "'", as safe_cell does.
"""

from sqlalchemy import Integer, String, case, cast, func, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class FirstCodePoint(FunctionElement):
    """The code point of a text's first character (NULL or 0 for empty text)."""

    type = Integer()
    name = "first_code_point"
    inherit_cache = True


@compiles(FirstCodePoint, "sqlite")
def _sqlite(element, compiler, **kw):
    return f"unicode({compiler.process(element.clauses, **kw)})"


@compiles(FirstCodePoint, "postgresql")
def _postgresql(element, compiler, **kw):
    # ascii() is the first character's code point in a UTF8 database, whatever the character.
    return f"ascii({compiler.process(element.clauses, **kw)})"


def csv_line_sql(cells, formula_starts):
    """cells: (column, holds text) in the line's order; formula_starts: the characters that get
    "'" before them at a text cell's start."""
    codes = sorted(ord(c) for c in formula_starts)
    line = None
    for column, text in cells:
        value = column if isinstance(column.type, String) else cast(column, String)
        if _nullable(column):
            value = func.coalesce(value, "")
        if text:
            value = case((FirstCodePoint(value).in_(codes), literal("'") + value), else_=value)
            value = func.replace(value, '"', '""', type_=String)
        # Numbers and database-made timestamps hold no quote and start with no trigger.
        line = literal('"') + value if line is None else line + literal('","') + value
    return line + literal('"')


def _nullable(column):
    """Whether column may be NULL: any expression but a NOT NULL column (coalesce costs time)."""
    return getattr(getattr(column, "expression", column), "nullable", True)
