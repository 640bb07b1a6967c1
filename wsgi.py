"""Entry point for `gunicorn wsgi:app` and for the `flask` command (found here by name)."""

from myapp import create_app

app = create_app()
