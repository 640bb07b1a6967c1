"""Brute-force limits on sign-in, kept in the database so that they hold across every worker and
every instance.

An attempt first records itself as a *pending* failure (reserve), in a short transaction, before
the slow password check; then it settles it as a failure, or takes it back on success and clears
the account's count (release). No lock is held during the check, and attempts made at the same
moment cannot slip past the limit: a pending attempt holds a place under it. When the failures
and the pending attempts together reach the limit, a further attempt waits for the pending ones
to settle (Busy) instead of being refused for failures that may never happen; once the settled
failures alone reach it, attempts are refused (Refused) and record nothing, so they do not
extend the lock-out.
"""

import hashlib
import math
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select, text, update

from ..extensions import db
from ..models import SignInFailure
from ..types import now_utc

KEY_MAX = 255
# A pending attempt whose worker died before settling it counts as a failure after this.
PENDING_FOR_AT_MOST = timedelta(seconds=30)


@dataclass
class Reservation:
    account: str
    row_ids: tuple[int, int]  # (the account's row, the address's row)


class Refused(Exception):
    def __init__(self, retry_after):
        super().__init__(f"too many failed sign-ins; retry after {retry_after} s")
        self.retry_after = retry_after


class Busy(Exception):
    """As many attempts are being checked right now as the limit has places left: wait a moment."""


def account_key(typed):
    """The account an attempt is counted against: what was typed, folded to lower case."""
    return typed.strip().lower()[:KEY_MAX]


def reserve(account, address):
    """Record this attempt as pending; Refused(retry_after) past a limit, Busy when it is full."""
    config = current_app.config
    window = timedelta(seconds=config["SIGN_IN_WINDOW_SECONDS"])
    now = now_utc()
    address = (address or "unknown")[:KEY_MAX]
    _serialize(account, address)
    db.session.execute(delete(SignInFailure).where(SignInFailure.failed_at <= now - window))
    limits = (
        ("account", account, config["SIGN_IN_ACCOUNT_LIMIT"]),
        ("address", address, config["SIGN_IN_ADDRESS_LIMIT"]),
    )
    waits, busy = [], False
    for scope, key, limit in limits:
        failed, pending = _failures(scope, key, now, window)
        if len(failed) >= limit:
            waits.append(failed[limit - 1] + window - now)  # when the limit-th latest leaves the window
        elif len(failed) + pending >= limit:
            busy = True
    if waits:
        raise Refused(max(1, math.ceil(max(waits).total_seconds())))
    if busy:
        raise Busy()
    rows = [SignInFailure(scope=scope, key=key, failed_at=now, pending=True) for scope, key, _ in limits]
    db.session.add_all(rows)
    db.session.flush()
    return Reservation(account, (rows[0].id, rows[1].id))


def settle(reservation):
    """The password was wrong: the pending attempt is a failure."""
    db.session.execute(
        update(SignInFailure).where(SignInFailure.id.in_(reservation.row_ids)).values(pending=False)
    )


def release(reservation):
    """The sign-in succeeded: clear the account's failures and take back this attempt's."""
    by_account = (SignInFailure.scope == "account", SignInFailure.key == reservation.account)
    db.session.execute(delete(SignInFailure).where(*by_account))
    db.session.execute(delete(SignInFailure).where(SignInFailure.id.in_(reservation.row_ids)))


def _failures(scope, key, now, window):
    """(times of the key's failures in the window, latest first; how many attempts are pending)."""
    rows = db.session.execute(
        select(SignInFailure.failed_at, SignInFailure.pending)
        .where(SignInFailure.scope == scope, SignInFailure.key == key, SignInFailure.failed_at > now - window)
        .order_by(SignInFailure.failed_at.desc())
    ).all()
    stale = now - PENDING_FOR_AT_MOST
    failed = [at for at, pending in rows if not pending or at <= stale]
    return failed, len(rows) - len(failed)


def _serialize(account, address):
    """On PostgreSQL, attempts on one account (or address) take turns: count, then record.

    Transaction-scoped advisory locks, always account first, then address, so that two attempts
    cannot wait on each other. SQLite needs none: a POST's transaction begins IMMEDIATE.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for scope, key in (("account", account), ("address", address)):
        number = int.from_bytes(hashlib.sha256(f"{scope}:{key}".encode()).digest()[:8], "big", signed=True)
        db.session.execute(text("SELECT pg_advisory_xact_lock(:n)"), {"n": number})
