"""csv_line_sql(cells): a row as one line of CSV text, written by the database itself.

The exports (myapp/exports.py) stream millions of rows. Made in Python, cell by cell, a line cost
more than the row took to read; made by the database in the same query, Python only joins lines.
The line is what exports.csv_line writes, without its CRLF: every cell quoted, quotes doubled, NULL
empty; and a text cell that starts with a formula trigger is prefixed with "'", as safe_cell does.

On SQLite one printf() call writes the line: a chain of || copied it once per cell (0.7 s of a
3M-post export).
"""

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class CsvLine(FunctionElement):
    """The columns as its arguments (so that the query reads their tables), and which hold text."""

    type = String()
    name = "csv_line"
    inherit_cache = False  # texts and codes are no part of a cache key: compiled for each request

    def __init__(self, cells, formula_starts):
        super().__init__(*(column for column, _text in cells))
        self.texts = [text for _column, text in cells]
        self.codes = ", ".join(str(ord(c)) for c in sorted(formula_starts))

    def cells(self):
        return zip(self.clauses.clauses, self.texts, strict=True)


def csv_line_sql(cells, formula_starts):
    """cells: (column, holds text) in the line's order; formula_starts: the characters that get
    "'" before them at a text cell's start."""
    return CsvLine(cells, formula_starts)


@compiles(CsvLine, "sqlite")
def _sqlite(element, compiler, **kw):
    # printf's %w doubles each '"'; %s of NULL is '' but %w of NULL is '(NULL)': coalesce.
    formats, args = [], []
    for column, text in element.cells():
        x = compiler.process(column, **kw)
        if _nullable(column):
            x = f"coalesce({x}, '')"
        if text:
            formats.append('"%s%w"')
            args += [_prefix("unicode", x, element.codes), x]
        else:
            formats.append('"%s"')
            args.append(x)
    return f"printf({_text(compiler, ','.join(formats))}, {', '.join(args)})"


@compiles(CsvLine, "postgresql")
def _postgresql(element, compiler, **kw):
    # || here: format() cost 1.5 s more of the server's time on 3M posts. NULL || text is NULL:
    # coalesce. ascii() is the first character's code point in a UTF8 database.
    parts = []
    for column, text in element.cells():
        x = compiler.process(column, **kw)
        if _nullable(column):
            x = f"coalesce({x}, '')"
        if text:
            x = f"{_prefix('ascii', x, element.codes)} || replace({x}, '\"', '\"\"')"
        parts.append(f"({x})" if text else f"{x}")
    return "('\"' || " + " || '\",\"' || ".join(parts) + " || '\"')"


def _text(compiler, value):
    """value as an SQL string literal; its '%' doubled where the driver's placeholders use '%'."""
    return compiler.render_literal_value(value, String())


def _prefix(first_code_point, x, codes):
    """ "'" when x starts with a formula trigger, else ''."""
    return f"CASE WHEN {first_code_point}({x}) IN ({codes}) THEN '''' ELSE '' END"


def _nullable(column):
    """Whether column may be NULL: any expression but a NOT NULL column (coalesce costs time)."""
    return getattr(getattr(column, "expression", column), "nullable", True)
