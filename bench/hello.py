"""Baseline: Flask's hello world, the ceiling for any page served by Flask + gunicorn."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    """The smallest possible response."""
    return "Hello, World!"
