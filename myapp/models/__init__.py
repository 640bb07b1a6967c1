"""The models: content (users, posts, kept counts), accounts (tokens, failed sign-ins), history."""

from .accounts import ApiToken, SignInFailure
from .content import ROLES, Post, RowCount, User
from .history import HistoryEntry

__all__ = ["ROLES", "ApiToken", "HistoryEntry", "Post", "RowCount", "SignInFailure", "User"]
