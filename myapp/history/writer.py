"""The one writer of the history: a pair of events on the app's session that sees every flush.

before_flush reads what is about to change (old values, and the posts the database will delete
with a user through ON DELETE CASCADE, which the ORM never loads); after_flush inserts the entries
with Core on the flush's own connection, so they commit or roll back with the change itself. A
write that fails (a taken name, a stale version) never reaches after_flush: it leaves no entry.

Paths that bypass the ORM (flask seed, flask restore) add one summary entry themselves (record()).
"""

from datetime import datetime

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import event, insert, inspect, select

from ..extensions import db
from ..models import HistoryEntry, Post, User
from ..types import now_utc

COMMAND_LINE = "command line"
FIELDS = {User: ("username", "email", "role"), Post: ("title", "body", "user_id")}
KIND = {User: "user", Post: "post"}
# Restoring a row needs these too; the history pages show only FIELDS.
KEPT = {model: ("id", *fields, "created_at") for model, fields in FIELDS.items()}
history = HistoryEntry.__table__
posts = Post.__table__
INSERT_ENTRIES = insert(history)  # built once: every write runs it


def actor():
    """(account id, name) of whoever makes the change now: the signed-in account in a request,
    else the operator at the command line (flask commands; also data made by tests)."""
    if has_request_context():
        if current_user.is_authenticated:
            return current_user.id, current_user.username
        return None, "anonymous"
    return None, COMMAND_LINE


def jsonable(value):
    return value.isoformat() if isinstance(value, datetime) else value


def plural(n, word):
    return f"{n} {word}{'' if n == 1 else 's'}"


def row_values(obj, names):
    return {name: jsonable(getattr(obj, name)) for name in names}


def entry(action, kind, object_id, owner_id, changes=None, note=None, snapshot=None, who=None):
    actor_id, actor_name = who or actor()
    return {
        "at": now_utc(),
        "actor_id": actor_id,
        "actor_name": actor_name,
        "action": action,
        "kind": kind,
        "object_id": object_id,
        "owner_id": owner_id,
        "changes": changes or None,
        "note": note,
        "snapshot": snapshot,
    }


def record(connection, action, note):
    """One summary entry for a command that writes without the ORM (seed, restore)."""
    connection.execute(INSERT_ENTRIES, [entry(action, "database", None, None, note=note)])


def recorded_as(session, user, note):
    """The next flush acts as user (not signed in yet: a sign-in that re-hashes the password)."""
    session.info["history_as"] = (user.id, user.username, note)


def restoring(session, source_entry_id):
    """Mark this session's next flush as the undo of that entry: its inserts are restores."""
    session.info["history_restore"] = source_entry_id


def owner_of(obj):
    return obj.id if isinstance(obj, User) else obj.user_id


def updated(obj, who, password_note):
    """The entry for a changed row, or None when nothing recorded changed (only bookkeeping)."""
    state = inspect(obj)
    changes = {}
    for name in FIELDS[type(obj)]:
        change = state.attrs[name].history
        if change.has_changes():
            old = change.deleted[0] if change.deleted else None
            new = change.added[0] if change.added else None
            changes[name] = [jsonable(old), jsonable(new)]
    # Never a password or its hash: only that it changed.
    password = isinstance(obj, User) and state.attrs.password_hash.history.has_changes()
    note = password_note if password else None
    if not changes and not note:
        return None
    return entry("update", KIND[type(obj)], obj.id, owner_of(obj), changes, note, who=who)


def deleted(session, obj, gone_users, who):
    kind, fields = KIND[type(obj)], FIELDS[type(obj)]
    changes = {name: [jsonable(getattr(obj, name)), None] for name in fields}
    snapshot = {kind: row_values(obj, KEPT[type(obj)])}
    note = None
    if isinstance(obj, User):
        # The database deletes the posts (ON DELETE CASCADE) without the ORM seeing them: keep them now.
        rows = session.connection().execute(
            select(*(posts.c[name] for name in KEPT[Post]))
            .where(posts.c.user_id == obj.id)
            .order_by(posts.c.id)
        )
        snapshot["posts"] = [{k: jsonable(v) for k, v in row._mapping.items()} for row in rows]
        note = f"with {plural(len(snapshot['posts']), 'post')}" if snapshot["posts"] else None
    elif obj.user_id in gone_users:
        return None  # deleted with its author: kept in the author's entry
    return entry("delete", kind, obj.id, owner_of(obj), changes, note, snapshot, who=who)


@event.listens_for(db.session, "before_flush")
def _before_flush(session, _flush_context, _instances):
    source = session.info.pop("history_restore", None)
    acting_as = session.info.pop("history_as", None)
    who, password_note = (acting_as[:2], acting_as[2]) if acting_as else (actor(), "password changed")
    gone_users = {obj.id for obj in session.deleted if isinstance(obj, User)}
    pending = [updated(obj, who, password_note) for obj in session.dirty if type(obj) in FIELDS]
    pending += [deleted(session, obj, gone_users, who) for obj in session.deleted if type(obj) in FIELDS]
    new = [obj for obj in session.new if type(obj) in FIELDS]
    session.info["history_pending"] = ([e for e in pending if e], new, source, who)


@event.listens_for(db.session, "after_flush")
def _after_flush(session, _flush_context):
    pending, new, source, who = session.info.pop("history_pending", ([], [], None, None))
    new_users = {obj.id for obj in new if isinstance(obj, User)}
    for obj in new:
        kind, owner = KIND[type(obj)], owner_of(obj)
        changes = {name: [None, jsonable(getattr(obj, name))] for name in FIELDS[type(obj)]}
        if source is None:
            note = "password set" if isinstance(obj, User) and obj.password_hash else None
            pending.append(entry("create", kind, obj.id, owner, changes, note, who=who))
        elif isinstance(obj, User) or obj.user_id not in new_users:  # a user's posts: in their entry
            count = sum(1 for o in new if isinstance(o, Post) and o.user_id == obj.id)
            note = f"undoes entry {source}" + (f", with {plural(count, 'post')}" if count else "")
            pending.append(entry("restore", kind, obj.id, owner, changes, note, who=who))
    if pending:
        session.connection().execute(INSERT_ENTRIES, pending)
