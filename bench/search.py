"""Search at scale, in-process: median and max of each /users?q= and /posts?q= URL (and the API's).

    DATABASE_URL=sqlite:////tmp/search/big.db python bench/search.py [--rounds 15]

Run against a database seeded with `flask seed --users 1000000 --posts-per-user 3` and upgraded.
It adds a few posts with rare titles (through the ORM, so the kept counts stay right) and an admin,
then times every URL with app.test_client(): anonymously (READ_ACCESS=public, usernames only) and
signed in as the admin (usernames and emails). URLs are taken in turn, round after round, so that
drift on a busy machine hits them all alike. Prints a Markdown table.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# Read when config.py is imported: anonymous visitors may read (without emails).
os.environ["READ_ACCESS"] = "public"
os.environ.setdefault("SECRET_KEY", "bench-" + "k" * 40)

from sqlalchemy import select

from myapp import create_app
from myapp.database import write_intent
from myapp.extensions import db
from myapp.models import Post, User

RARE_TITLES = ("Zanzibar ferry timetable", "A zanzibar spice market", "Notes on zanzibar")
TERMS = {
    "users": {
        "rare": "user123456",
        "none": "zzqzz",
        "common": "user",
        "mid, clustered": "user9",
        "2-char": "us",
    },
    "posts": {"rare": "zanzibar", "none": "zzqzz", "common": "jazz", "2-char": "no", "2-char none": "zq"},
}


def prepare(app):
    """The rare titles and a signed-in admin, once per database."""
    with app.app_context(), write_intent():
        admin = db.session.scalar(select(User).where(User.username == "benchadmin"))
        if admin is None:
            admin = User(
                username="benchadmin", email="benchadmin@example.org", role="admin", password_hash="x"
            )
            db.session.add(admin)
            db.session.flush()
            db.session.add_all(Post(title=title, user_id=admin.id) for title in RARE_TITLES)
            db.session.commit()
        return admin.get_id()


def urls():
    for kind, terms in TERMS.items():
        for label, term in terms.items():
            yield f"{kind} {label}", f"/{kind}?q={term}"
            yield f"api {kind} {label}", f"/api/{kind}?q={term}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    options = parser.parse_args()
    app = create_app("production")
    session_id = prepare(app)
    anonymous = app.test_client()
    signed_in = app.test_client()
    with signed_in.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
    clients = {"anonymous": anonymous, "admin": signed_in}
    cases = [(who, label, url) for who in clients for label, url in urls()]
    times = {case: [] for case in cases}
    for case in cases:  # warm up: the first request of each reads its pages from disk
        clients[case[0]].get(case[2])
    for _ in range(options.rounds):
        for case in cases:
            start = time.perf_counter()
            response = clients[case[0]].get(case[2])
            times[case].append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (case, response.status_code)
    with app.app_context():
        backend = db.engine.url.get_backend_name()
    print(f"| {backend} | who | URL | median ms | max ms |\n|---|---|---|---:|---:|")
    for (who, label, url), values in times.items():
        print(f"| {label} | {who} | `{url}` | {statistics.median(values):.1f} | {max(values):.1f} |")


if __name__ == "__main__":
    main()
