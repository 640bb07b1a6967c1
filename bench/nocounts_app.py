"""The app with its kept counts switched off: the upper bound for POST /api/posts (bench/pg_writes.py).

Not a way to run the app: /stats and the lists are wrong without the counts.
"""

from sqlalchemy import event

from myapp import counters, create_app
from myapp.models import Post, User

for target, name, listener in (
    (User, "after_insert", counters._user_added),
    (User, "before_delete", counters._user_deleted),
    (Post, "after_insert", counters._post_added),
    (Post, "after_delete", counters._post_deleted),
    (Post, "after_update", counters._post_moved),
):
    event.remove(target, name, listener)

app = create_app()
