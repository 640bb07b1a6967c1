"""Password hashing with Argon2id (argon2-cffi), parameters from the config."""

import contextlib
import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app


def hasher():
    """This app's PasswordHasher, made once from ARGON2_* settings."""
    extensions = current_app.extensions
    if "argon2" not in extensions:
        config = current_app.config
        extensions["argon2"] = PasswordHasher(
            time_cost=config["ARGON2_TIME_COST"],
            memory_cost=config["ARGON2_MEMORY_COST_KIB"],
            parallelism=config["ARGON2_PARALLELISM"],
            type=Type.ID,
        )
        # Checked against when there is no hash to check (unknown account, no password), so that
        # the answer takes as long as for a real account and does not tell which accounts exist.
        extensions["argon2_decoy"] = extensions["argon2"].hash(secrets.token_hex(16))
    return extensions["argon2"]


def hash_password(password):
    return hasher().hash(password)


def check_password(stored_hash, password):
    """(matches, new_hash): new_hash is set when the stored hash used other parameters."""
    ph = hasher()
    if stored_hash is None:
        with contextlib.suppress(VerificationError):
            ph.verify(current_app.extensions["argon2_decoy"], password)
        return False, None
    try:
        ph.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False, None
    return True, (ph.hash(password) if ph.check_needs_rehash(stored_hash) else None)
