"""gunicorn settings for the bench's servers: no access log (the bench measures the app, not logging)."""

accesslog = None
errorlog = "-"
loglevel = "warning"
