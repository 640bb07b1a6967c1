"""Every kind of URL at a million users and 3M posts, on SQLite and PostgreSQL (issue 12, SPEC §14).

    python bench/million.py                       # what `make bench-million` runs: both databases
    python bench/million.py --reuse               # keep the seeded databases, and use them next time
    python bench/million.py --databases sqlite --users 10000 --requests 3   # a quick look

For each database: seed with `flask seed` (or reuse a seeded one), migrate, sign in as an admin,
then serve the app with gunicorn, one worker (the project's gunicorn.conf.py, access log off), and
time each URL: a warm-up, then --requests sequential requests over one keep-alive connection,
median and max in milliseconds, measured by this client (loopback). Pages are read with the
admin's session cookie, the API with a bearer token. The whole /users.csv and /posts.csv are then
downloaded once each. The table goes into bench/RESULTS.md as its "1M" section (the rest of the
file is kept).

Databases: a SQLite file under --workdir (default /tmp/myapp-million), and the PostgreSQL
database named in --pg-url (BENCH_PG_URL; default bench_million on 127.0.0.1), which this script
drops and makes again (never point it at a database you keep). Without --reuse both are removed
at the end.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import million_report  # bench/ is not a package: its modules are imported from sys.path
from million_client import Client
from million_databases import PostgresDatabase, SqliteDatabase
from run import BENCH_ADMIN, session_cookie
from servers import ROOT, Server, flask

PER_PAGE = 20  # the app's default, as a person sees the lists
METRICS_TOKEN = "bench-metrics-" + "m" * 24


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--databases", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql"
    )
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--posts-per-user", type=int, default=3)
    parser.add_argument("--requests", type=int, default=15, help="timed requests per URL, after the warm-up")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument(
        "--budget", type=float, default=20, help="seconds per URL after which only 3 timed requests are made"
    )
    parser.add_argument(
        "--workdir", default="/tmp/myapp-million", help="the SQLite file and notes; not the repo"
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_million"),
        help="a scratch PostgreSQL database: dropped and made again unless --reuse finds it seeded",
    )
    parser.add_argument("--reuse", action="store_true", help="reuse seeded databases, and keep them after")
    parser.add_argument("--no-full-exports", action="store_true", help="skip downloading the whole CSVs")
    parser.add_argument("--output", default=str(Path(__file__).resolve().parent / "RESULTS.md"))
    parser.add_argument("--no-report", action="store_true", help="print the table; leave RESULTS.md alone")
    return parser.parse_args()


def app_env(database, workdir):
    return {
        "DATABASE_URL": database.url,
        "INSTANCE_PATH": str(Path(workdir) / f"instance-{database.kind}"),
        "SECRET_KEY": "bench-only-" + "k" * 32,  # production refuses keys under 32 characters
        "APP_CONFIG": "production",
        "METRICS_TOKEN": METRICS_TOKEN,
    }


def prepare(database, args, env):
    """Seed (unless a seeded database is reused) and migrate; returns the seconds seeding took, or None."""
    seconds = None
    if not (args.reuse and database.seeded_users() >= args.users):
        database.recreate()
        flask(["db", "upgrade"], env)
        started = time.perf_counter()
        flask(["seed", "--users", str(args.users), "--posts-per-user", str(args.posts_per_user)], env)
        seconds = time.perf_counter() - started
    flask(["db", "upgrade"], env)  # a reused database gets this code's migrations
    flask(["create-admin", *BENCH_ADMIN[:2], "--password-stdin"], env, stdin=BENCH_ADMIN[2] + "\n")
    return seconds


def extras(database, env, client, workdir):
    """Ids of a user with 1,000 posts, one with none and a post with a rare title, made once.

    Made with `flask seed` and the API, and noted in the workdir so that a reused database keeps them.
    """
    note = Path(workdir) / f"extras-{database.kind}.json"
    if note.exists():
        known = json.loads(note.read_text())
        if known.get("url") == database.url and database.user_id(known["many_name"]) == known["many"]:
            return known
    many_name = seeded_name(flask(["seed", "--users", "1", "--posts-per-user", "1000"], env).stdout)
    none_name = seeded_name(flask(["seed", "--users", "1", "--posts-per-user", "0"], env).stdout)
    many, none = database.user_id(many_name), database.user_id(none_name)
    post = client.post_json("/api/posts", {"title": "Bench: a zebra crossing at dawn", "user_id": many})
    known = {"url": database.url, "many_name": many_name, "many": many, "none": none, "rare_post": post["id"]}
    note.write_text(json.dumps(known))
    return known


def seeded_name(output):
    """user1000001 from "Added 1 users (user1000001 to user1000001) and ..."."""
    return output.split("(", 1)[1].split(" ", 1)[0]


def urls(ids, users, posts):
    """(kind, path, credentials) of every URL timed: pages with the cookie, /api with the token."""
    user_pages, post_pages = max(1, users // PER_PAGE), max(1, posts // PER_PAGE)
    many, none, post = ids["many"], ids["none"], ids["rare_post"]
    pages = [("/", "/"), ("/users", "/users")]
    for sort in ("username", "email", "created", "posts"):
        pages += [
            (f"/users?sort={sort}", f"/users?sort={sort}"),
            (f"/users?sort=-{sort}", f"/users?sort=-{sort}"),
        ]
    pages += [
        ("/users?page=<last - 10> (typed)", f"/users?page={max(1, user_pages - 10)}"),
        ("/users?page=<middle> (typed)", f"/users?page={max(1, user_pages // 2)}"),
        ("/users page after the middle (Next link)", ("next", f"/users?page={max(1, user_pages // 2)}")),
        (
            "/users?sort=posts after the middle (Next link, in a tie group)",
            ("next", f"/users?sort=posts&page={max(1, user_pages // 2)}"),
        ),
        ("/users/<id>, 1,000 posts", f"/users/{many}"),
        ("/users/<id>, no posts", f"/users/{none}"),
        ("/posts", "/posts"),
    ]
    for sort in ("created", "title", "author"):
        pages += [
            (f"/posts?sort={sort}", f"/posts?sort={sort}"),
            (f"/posts?sort=-{sort}", f"/posts?sort=-{sort}"),
        ]
    pages += [
        ("/posts?page=<2/3> (typed)", f"/posts?page={max(1, post_pages * 2 // 3)}"),
        ("/posts?page=<middle> (typed)", f"/posts?page={max(1, post_pages // 2)}"),
        ("/posts?sort=title&page=<middle> (typed: OFFSET)", f"/posts?sort=title&page={post_pages // 2}"),
        ("/posts page after the middle (Next link)", ("next", f"/posts?page={max(1, post_pages // 2)}")),
        (
            "/posts?sort=title after the middle (Next link, in a tie group)",
            ("next", f"/posts?sort=title&page={max(1, post_pages // 2)}"),
        ),
        ("/posts?user=<id> (1,000 posts)", f"/posts?user={many}"),
        ("/posts?user=<id>&sort=title", f"/posts?user={many}&sort=title"),
        ("/posts?user=<id>&page=<last>", f"/posts?user={many}&page={1000 // PER_PAGE}"),
        ("/posts/<id>", f"/posts/{post}"),
        ("/stats", "/stats"),
        ("/activity", "/activity"),
        ("/activity?kind=user", "/activity?kind=user"),
        ("/activity?account=<admin>", f"/activity?account={BENCH_ADMIN[0]}"),
        ("/users/<id>/history", f"/users/{many}/history"),
        ("/posts/<id>/history", f"/posts/{post}/history"),
        ("/users?q=<rare>", "/users?q=user123456"),
        ("/users?q=<none>", "/users?q=zzzq"),
        ("/users?q=<common>", "/users?q=user"),
        # 100k matches, all at the far end of the username order: the page walk finds none early.
        ("/users?q=<common, matched late in the sort>", "/users?q=user9"),
        ("/users?q=<common, matched late>&sort=email", "/users?q=user9&sort=email"),
        ("/users?q=<2 chars>", "/users?q=r1"),
        ("/posts?q=<rare>", "/posts?q=zebra"),
        ("/posts?q=<none>", "/posts?q=zzzq"),
        ("/posts?q=<common>", "/posts?q=gardening"),
        # 300k matches, the first after 700,000 other titles: a long walk of the title index.
        ("/posts?q=<common>&sort=title", "/posts?q=gardening&sort=title"),
        ("/posts?q=<2 chars>", "/posts?q=ch"),
        ("/users.csv, first 64 KiB", ("first", "/users.csv")),
        ("/posts.csv, first 64 KiB", ("first", "/posts.csv")),
    ]
    api = [
        ("/api/users", "/api/users"),
        ("/api/users?sort=-posts", "/api/users?sort=-posts"),
        ("/api/users?page=<middle>", f"/api/users?page={max(1, user_pages // 2)}"),
        ("/api/users?q=<rare>", "/api/users?q=user123456"),
        ("/api/users/<id>", f"/api/users/{many}"),
        ("/api/posts", "/api/posts"),
        ("/api/posts?sort=title", "/api/posts?sort=title"),
        ("/api/posts?sort=-author", "/api/posts?sort=-author"),
        ("/api/posts?page=<middle>", f"/api/posts?page={max(1, post_pages // 2)}"),
        ("/api/posts/<id>", f"/api/posts/{post}"),
        ("/api/activity", "/api/activity"),
    ]
    other = [("/healthz", "/healthz"), ("/metrics", "/metrics")]
    return (
        [(kind, path, "cookie") for kind, path in pages]
        + [(kind, path, "token") for kind, path in api]
        + [(kind, path, "metrics") for kind, path in other]
    )


def bench_database(database, args, log):
    env = app_env(database, args.workdir)
    print(f"== {database.kind}: preparing {database.describe()}", flush=True)
    seed_seconds = prepare(database, args, env)
    token = flask(["create-token", BENCH_ADMIN[0], "--name", "bench-million"], env).stdout.strip()
    # The page cache off: every timed request renders its page (with it on, every request after the
    # warm-up would be a cached hit, and the table would time the cache, not the queries).
    server_env = {**env, "WEB_CONCURRENCY": "1", "PAGE_CACHE_BYTES": "0"}
    with Server("wsgi:app", 1, env=server_env, config="gunicorn_app.py", cwd=ROOT, log=log) as server:
        if not server.wait("/healthz", timeout=120):
            raise SystemExit(f"the app did not start; see {log}")
        credentials = {
            "cookie": session_cookie(server.url),
            "token": {"Authorization": f"Bearer {token}"},
            "metrics": {"Authorization": f"Bearer {METRICS_TOKEN}"},
        }
        client = Client(server.url, credentials)
        ids = extras(database, env, client, args.workdir)
        users, posts = database.totals()
        rows = []
        for kind, path, who in urls(ids, users, posts):
            result = client.time(path, who, args.warmup, args.requests, args.budget)
            rows.append({"kind": kind, **result})
            print(
                f"{result['median']:8.1f} {result['max']:8.1f}  {result['status']}  {kind}  {result['path']}"
            )
        exports = [] if args.no_full_exports else [client.download(p) for p in ("/users.csv", "/posts.csv")]
        for export in exports:
            print(
                f"{export['seconds']:8.1f} s {export['mb']:.0f} MB {export['lines']} lines {export['path']}"
            )
    return {
        "kind": database.kind,
        "server_version": database.server_version(),
        "users": users,
        "posts": posts,
        "seed_seconds": seed_seconds,
        "rows": rows,
        "exports": exports,
    }


def main():
    args = parse_args()
    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    log = str(Path(args.workdir) / "servers.log")
    kinds = [kind.strip() for kind in args.databases.split(",") if kind.strip()]
    makers = {
        "sqlite": lambda: SqliteDatabase(Path(args.workdir) / "sqlite"),
        "postgresql": lambda: PostgresDatabase(args.pg_url),
    }
    unknown = set(kinds) - makers.keys()
    if unknown:
        raise SystemExit(f"unknown database kind {', '.join(sorted(unknown))}: sqlite or postgresql")
    machine = million_report.machine()
    results = []
    for kind in kinds:
        database = makers[kind]()
        try:
            results.append(bench_database(database, args, log))
        finally:
            if not args.reuse:
                database.drop()
    machine["load_after"] = os.getloadavg()
    text = million_report.markdown(results, machine, args, " ".join(["bench/million.py", *sys.argv[1:]]))
    print(text)
    if not args.no_report:
        million_report.write(args.output, text)
    (Path(args.workdir) / "million.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
