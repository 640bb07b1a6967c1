"""The models: content (users, posts, kept counts), accounts (tokens, failed sign-ins), history,
and the data version."""

from .accounts import ApiToken, SignInFailure
from .content import ROLES, PageCount, Post, RowCount, User
from .history import HistoryEntry
from .versions import DataVersion

__all__ = [
    "ROLES",
    "ApiToken",
    "DataVersion",
    "HistoryEntry",
    "PageCount",
    "Post",
    "RowCount",
    "SignInFailure",
    "User",
]
