"""API bearer tokens: made at random, shown once, stored only as a SHA-256 digest."""

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from ..database import wants_write_lock, write_intent
from ..extensions import db
from ..models import ApiToken
from ..transactions import commit
from ..types import now_utc

# A fixed prefix, so that secret scanners (and people) recognise a leaked token: "upt_" + 43
# URL-safe characters (32 random bytes).
PREFIX = "upt_"
# Last use is kept to this precision, so that a client's reads do not write on every request.
LAST_USE_PRECISION = timedelta(minutes=5)
MAX_TOKEN_LENGTH = 200


def digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


def issue(user, name, expires_days=None):
    """A new token for user: (the row, added to the session; the token, to show once)."""
    token = PREFIX + secrets.token_urlsafe(32)
    expires_at = now_utc() + timedelta(days=expires_days) if expires_days else None
    row = ApiToken(user=user, name=name, digest=digest(token), expires_at=expires_at)
    db.session.add(row)
    return row, token


def bearer_token(header):
    """The token of an `Authorization: Bearer <token>` header, or None when it is not one."""
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return token


def account_for(header):
    """The user an Authorization header's token belongs to; None if bad, expired or revoked."""
    token = bearer_token(header)
    if token is None:
        return None
    # The token and its account in one query.
    stmt = select(ApiToken).options(joinedload(ApiToken.user)).where(ApiToken.digest == digest(token))
    row = db.session.scalar(stmt)
    now = now_utc()
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    note_use(row, now)
    return row.user


def note_use(row, now):
    """Record the token's last use when the one kept is older than LAST_USE_PRECISION."""
    if row.last_used_at is not None and now - row.last_used_at < LAST_USE_PRECISION:
        return
    if wants_write_lock():
        row.last_used_at = now  # a write request: saved by the view's own commit
        return
    # A read runs in a deferred transaction, which must not turn into a writer (on SQLite it could
    # fail with "database is locked"): end it, and write in a short transaction of its own.
    commit()
    with write_intent():
        db.session.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
        commit()
