"""gunicorn settings for the app under the bench: the project's own file, without the access log."""

import os

_project = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "gunicorn.conf.py")
with open(_project) as f:
    exec(compile(f.read(), _project, "exec"))  # the project's settings, as gunicorn reads them

accesslog = None
loglevel = "warning"
