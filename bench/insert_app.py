"""Baseline: the smallest Flask-SQLAlchemy app that inserts a user from JSON, for POST /api/users.

It gets the two settings any SQLite app with several workers needs (WAL, a busy timeout); without
them it answers "database is locked" under load and is no fair yardstick.
"""

import os

from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.environ["BENCH_INSERT_DB"]
db = SQLAlchemy(app)


class User(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(unique=True)
    email: Mapped[str] = mapped_column(unique=True)


with app.app_context():

    @event.listens_for(db.engine, "connect")
    def _pragmas(connection, _record):
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA busy_timeout = 5000")


@app.post("/api/users")
def create_user():
    """Insert the user in the JSON body; 201 with its id."""
    data = request.get_json()
    user = User(username=data["username"], email=data["email"])
    db.session.add(user)
    db.session.commit()
    return {"id": user.id, "username": user.username, "email": user.email}, 201


if __name__ == "__main__":  # python bench/insert_app.py: create the table before the workers start
    with app.app_context():
        db.create_all()
