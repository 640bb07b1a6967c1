"""The models: content (users, posts, kept counts) and accounts (tokens, failed sign-ins)."""

from .accounts import ApiToken, SignInFailure
from .content import ROLES, Post, RowCount, User

__all__ = ["ROLES", "ApiToken", "Post", "RowCount", "SignInFailure", "User"]
