"""History: the audit table's writer (writer.py, session events), the history and activity pages,
and undoing a delete (undo.py)."""

from flask import Blueprint

bp = Blueprint("history", __name__)

from . import views  # noqa: E402,F401 - registers the routes on bp
