"""Brute-force limits on sign-in, kept in the database so that they hold across every worker and
every instance.

An attempt first records itself as a failure (reserve), in a short transaction, before the slow
password check; a successful sign-in then takes its record back and clears the account's count
(release). So concurrent attempts cannot slip past the limit while hashes are being checked, and
no lock is held during the check. Refused attempts record nothing, so they do not extend the
lock-out.
"""

import hashlib
import math
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select, text

from ..extensions import db
from ..models import SignInFailure
from ..types import now_utc

KEY_MAX = 255


@dataclass
class Reservation:
    account: str
    address_row_id: int


class Refused(Exception):
    def __init__(self, retry_after):
        super().__init__(f"too many failed sign-ins; retry after {retry_after} s")
        self.retry_after = retry_after


def account_key(typed):
    """The account an attempt is counted against: what was typed, folded to lower case."""
    return typed.strip().lower()[:KEY_MAX]


def reserve(account, address):
    """Count this attempt as a failure now; Refused(retry_after) when a limit is reached."""
    config = current_app.config
    window = timedelta(seconds=config["SIGN_IN_WINDOW_SECONDS"])
    now = now_utc()
    address = (address or "unknown")[:KEY_MAX]
    _serialize(account, address)
    db.session.execute(delete(SignInFailure).where(SignInFailure.failed_at <= now - window))
    waits = [
        _lock_left("account", account, config["SIGN_IN_ACCOUNT_LIMIT"], now, window),
        _lock_left("address", address, config["SIGN_IN_ADDRESS_LIMIT"], now, window),
    ]
    waits = [wait for wait in waits if wait is not None]
    if waits:
        raise Refused(max(1, math.ceil(max(waits).total_seconds())))
    by_address = SignInFailure(scope="address", key=address, failed_at=now)
    db.session.add_all([SignInFailure(scope="account", key=account, failed_at=now), by_address])
    db.session.flush()
    return Reservation(account, by_address.id)


def release(reservation):
    """The sign-in succeeded: clear the account's failures and take back this attempt's."""
    db.session.execute(
        delete(SignInFailure).where(
            SignInFailure.scope == "account", SignInFailure.key == reservation.account
        )
    )
    db.session.execute(delete(SignInFailure).where(SignInFailure.id == reservation.address_row_id))


def _lock_left(scope, key, limit, now, window):
    """How long the key stays locked: until its limit-th latest failure leaves the window."""
    nth_latest = db.session.scalar(
        select(SignInFailure.failed_at)
        .where(SignInFailure.scope == scope, SignInFailure.key == key, SignInFailure.failed_at > now - window)
        .order_by(SignInFailure.failed_at.desc())
        .offset(limit - 1)
        .limit(1)
    )
    return None if nth_latest is None else nth_latest + window - now


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
