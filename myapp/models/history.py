"""The history of every change to a user or post (SPEC §13), written by myapp/history/writer.py."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..types import RowId, UTCDateTime, now_utc

KINDS = ("user", "post", "database")
ACTIONS = ("create", "update", "delete", "restore", "seed")


class HistoryEntry(db.Model):
    """One change: when, who, what, and each changed field's old and new value.

    The actor is kept twice: actor_id links to the account while it exists (SET NULL when it is
    deleted) and actor_name keeps who it was (a username, or "command line").
    """

    __tablename__ = "history"

    id: Mapped[int] = mapped_column(RowId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    actor_id: Mapped[int | None] = mapped_column(RowId, ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(10))
    object_id: Mapped[int | None] = mapped_column(RowId)
    # The user a row belongs to (the user itself, or a post's author): members see their own.
    owner_id: Mapped[int | None] = mapped_column(RowId)
    # {"field": [old, new]}; None on the missing side of a create or a delete.
    changes: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    # What has no values: "password changed", a seed's or a restore's summary.
    note: Mapped[str | None] = mapped_column(String(500))
    # A delete keeps the row (and a user's posts deleted with them) so that it can be restored.
    snapshot: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))

    __table_args__ = (
        Index("ix_history_object", "kind", "object_id", "id"),
        Index("ix_history_actor_id", "actor_id", "id"),
    )

    def __repr__(self):
        return f"<HistoryEntry {self.id} {self.action} {self.kind} {self.object_id}>"
