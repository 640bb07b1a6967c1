"""Accounts: sign-in and sign-out, the own account page, API tokens, brute-force limits, and
(permissions.py) the one place that says who may do what."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import account, views  # noqa: E402,F401 - registers the routes on bp
