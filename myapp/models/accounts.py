"""What sign-in keeps besides the user row: API tokens and recent failed sign-ins."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..types import RowId, UTCDateTime, now_utc
from .content import User


class ApiToken(db.Model):
    """A bearer token for the API. Only its SHA-256 digest is stored; the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(RowId, primary_key=True)
    user_id: Mapped[int] = mapped_column(RowId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Written at most every few minutes (myapp/auth/tokens.py), so that reads do not all write.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def __repr__(self):
        return f"<ApiToken {self.id} {self.name!r}>"


class SignInFailure(db.Model):
    """One failed sign-in, for the brute-force limits: kept per account typed and per address.

    A row is written as `pending` before the password is checked (myapp/auth/throttle.py), then
    settled as a failure or deleted on success.
    """

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(RowId, primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))  # "account" or "address"
    key: Mapped[str] = mapped_column(String(255))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    pending: Mapped[bool] = mapped_column(default=False, server_default=sa_false())

    __table_args__ = (
        Index("ix_sign_in_failures_scope_key", "scope", "key", "failed_at"),
        Index("ix_sign_in_failures_failed_at", "failed_at"),  # clearing out old rows
    )
