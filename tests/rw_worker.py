"""One of several processes doing read-then-write on one SQLite file (tests/test_sqlite_settings.py).

Each iteration reads a counter in Python, writes it back plus one, and adds a user: the pattern
that loses updates or fails with "database is locked" unless writers take the lock at BEGIN.
Prints "ok <commits>" or the errors it met.
"""

import sys

from sqlalchemy import select

from myapp.database import write_intent
from myapp.extensions import db
from myapp.models import RowCount, User
from tests.file_app import make_file_app


def main(path, worker, iterations):
    app = make_file_app(path, upgrade=False)
    errors = []
    with app.app_context():
        for i in range(iterations):
            try:
                with write_intent():
                    counter = db.session.scalar(select(RowCount).where(RowCount.name == "race"))
                    counter.n = counter.n + 1  # read-modify-write in Python, on purpose
                    db.session.add(User(username=f"w{worker}_{i}", email=f"w{worker}_{i}@example.com"))
                    db.session.commit()
            except Exception as error:  # report every failure instead of stopping at the first
                db.session.rollback()
                errors.append(repr(error))
    print(f"ok {iterations - len(errors)}" if not errors else "\n".join(errors))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
