"""The bench: seed databases of several sizes, serve the app and two baselines, load them with wrk.

    python bench/run.py                      # what `make bench` runs: 10k, 100k, 1M users
    python bench/run.py --sizes 10000 --duration 3 --rounds 1
    python bench/run.py --smoke              # 200 users, each URL fetched once, no wrk

Every page is measured in alternation (A, B, C, A, B, C...) so that drift on a busy machine hits
all of them alike; the table shows medians. Pages the app does not have yet are "not available".
"""

import argparse
import http.cookiejar
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report  # bench/ is not a package: its modules are imported from sys.path
import wrk
from servers import BENCH, ROOT, Server, flask, get

PER_PAGE = 50
DEEP_PAGE = 2000


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="users per database, comma-separated")
    parser.add_argument("--posts-per-user", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per page")
    parser.add_argument("--write-size", type=int, default=100_000, help="size at which POST is measured")
    parser.add_argument("--workdir", default="/tmp/myapp-bench", help="databases go here, never in the repo")
    parser.add_argument("--output", default=str(BENCH / "RESULTS.md"))
    parser.add_argument("--smoke", action="store_true", help="200 users, each URL once, no wrk, no report")
    return parser.parse_args()


def prepare(size, posts_per_user, workdir):
    """A fresh database of `size` users; returns (env for the app, seconds that seeding took)."""
    directory = Path(workdir) / f"users-{size}"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    env = {
        "DATABASE_URL": f"sqlite:///{directory / 'app.db'}",
        "INSTANCE_PATH": str(directory),
        "SECRET_KEY": "bench-only-" + "k" * 32,  # production refuses keys under 32 characters
        "APP_CONFIG": "production",
    }
    flask(["db", "upgrade"], env)
    started = time.perf_counter()
    flask(["seed", "--users", str(size), "--posts-per-user", str(posts_per_user)], env)
    seeded = time.perf_counter() - started
    # Pages are read signed in, as an admin: a session cookie for pages, a token for the API.
    flask(["create-admin", *BENCH_ADMIN[:2], "--password-stdin"], env, stdin=BENCH_ADMIN[2] + "\n")
    env["BENCH_TOKEN"] = flask(["create-token", BENCH_ADMIN[0], "--name", "bench"], env).stdout.strip()
    return env, seeded


BENCH_ADMIN = ("benchadmin", "benchadmin@bench.example.com", "a bench-only passphrase")


def session_cookie(app_url):
    """Sign in through the form once and return the session cookie that wrk then sends."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(f"{app_url}/login", timeout=10).read().decode()
    token = html.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    form = {"username": BENCH_ADMIN[0], "password": BENCH_ADMIN[2], "csrf_token": token}
    opener.open(f"{app_url}/login", urllib.parse.urlencode(form).encode(), timeout=30).read()
    cookie = next(c for c in jar if c.name == "session")
    return {"Cookie": f"session={cookie.value}"}


def next_link(url, headers):
    """The href of the page's rel="next" link (what a person clicks), or None."""
    status, html = get(url, headers=headers)
    marker = 'rel="next" href="'
    if status != 200 or marker not in html:
        return None
    return html.split(marker, 1)[1].split('"', 1)[0].replace("&amp;", "&")


def etag_of(url, headers):
    """The ETag the app gives this URL for these headers (its second answer: the first one of a
    new session makes the session's CSRF token, and a response that changes the session has none)."""
    for _ in range(2):
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
            tag = response.headers.get("ETag")
    return tag


def read_pages(size, hello, raw, app, public, snapshot, rendered, token):
    """(name, url, headers) of every read measured at this size; the app's pages signed in."""
    pages = max(1, -(-size // PER_PAGE))
    deep = min(DEEP_PAGE, pages)
    cookie = session_cookie(app.url)
    bearer = {"Authorization": f"Bearer {token}"}
    list_url = f"{app.url}/users?per_page={PER_PAGE}"
    # The deep page as a person reaches it: the "Next" link on the page before it.
    before_deep = f"{list_url}&page={deep - 1}" if deep > 1 else None
    followed = next_link(before_deep, cookie) if before_deep else None
    # Signing in writes (a new data version): before the ETag below is taken, or it is stale.
    rendered_cookie = session_cookie(rendered.url) if rendered else None
    tag = etag_of(list_url, cookie)
    return [
        ("hello world (baseline)", f"{hello.url}/", None),
        ("raw sqlite3 /users (baseline)", f"{raw.url}/users?per_page={PER_PAGE}", None),
        ("/users page 1", list_url, cookie),
        # wrk asks for one URL again and again: the page above comes from the page cache. This is
        # what rendering it costs, every time (PAGE_CACHE_BYTES=0).
        (
            "/users page 1, rendered (page cache off)",
            f"{rendered.url}/users?per_page={PER_PAGE}" if rendered else None,
            rendered_cookie,
        ),
        # A browser revalidating the page it has: If-None-Match with its ETag, answered 304.
        (
            "/users page 1, 304 (If-None-Match)",
            list_url if tag else None,
            {**cookie, "If-None-Match": tag or ""},
        ),
        # What signing in costs: the same page read anonymously (READ_ACCESS=public).
        (
            "/users page 1, anonymous (public)",
            f"{public.url}/users?per_page={PER_PAGE}" if public else None,
            None,
        ),
        (f"/users page {deep} (next link)", app.url + followed if followed else None, cookie),
        (f"/users?page={deep}", f"{list_url}&page={deep}", cookie),
        ("/users/<id>", f"{app.url}/users/{max(1, size // 2)}", cookie),
        ("/posts page 1", f"{app.url}/posts?per_page={PER_PAGE}", cookie),
        ("/api/users page 1", f"{app.url}/api/users?per_page={PER_PAGE}", bearer),
        (
            "/users page 1, snapshot mode",
            f"{snapshot.url}/users?per_page={PER_PAGE}" if snapshot else None,
            None,
        ),
    ]


def post_one(url, headers):
    body = json.dumps({"username": f"smoke{time.time_ns()}", "email": f"s{time.time_ns()}@bench.example.com"})
    headers = {"Content-Type": "application/json", **(headers or {})}
    request = urllib.request.Request(url, body.encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def measure(targets, args, script=None):
    """{name: [run, ...]} for each target with a URL that answers 2xx (or 304 to a conditional
    request), in alternating rounds."""
    runs, status = {}, {}
    for name, url, headers in targets:
        code = (post_one(url, headers) if script else get(url, headers=headers)[0]) if url else None
        status[name] = code
        if code is not None and (200 <= code < 300 or code == 304):
            runs[name] = []
    if not args.smoke:
        for _ in range(args.rounds):
            for name, url, headers in targets:
                if name in runs:
                    runs[name].append(wrk.run(url, args.duration, script=script, headers=headers))
    return runs, status


def bench_size(size, args, log):
    env, seed_seconds = prepare(size, args.posts_per_user, args.workdir)
    print(f"== {size} users: seeded in {seed_seconds:.1f} s", flush=True)
    db_path = env["DATABASE_URL"].removeprefix("sqlite:///")
    workers = 1 if args.smoke else 2  # a smoke run checks that pages answer, not how fast
    app_env = {**env, "WEB_CONCURRENCY": str(workers)}
    snap_env = {**app_env, "APP_CONFIG": "snapshot"}
    public_env = {**app_env, "READ_ACCESS": "public"}
    rendered_env = {**app_env, "PAGE_CACHE_BYTES": "0"}
    with (
        Server("hello:app", workers, log=log) as hello,
        Server("raw_sqlite:app", workers, env={"BENCH_DB": db_path}, log=log) as raw,
        Server("wsgi:app", workers, env=app_env, config="gunicorn_app.py", cwd=ROOT, log=log) as app,
        Server("wsgi:app", workers, env=snap_env, config="gunicorn_app.py", cwd=ROOT, log=log) as snapshot,
        Server("wsgi:app", workers, env=public_env, config="gunicorn_app.py", cwd=ROOT, log=log) as public,
        Server(
            "wsgi:app", workers, env=rendered_env, config="gunicorn_app.py", cwd=ROOT, log=log
        ) as rendered,
    ):
        for server in (hello, raw, app):
            if not server.wait():
                raise SystemExit(f"a server did not start; see {log}")
        snapshot_up = snapshot if snapshot.wait() else None
        public_up = public if public.wait() else None
        rendered_up = rendered if rendered.wait() else None
        targets = read_pages(size, hello, raw, app, public_up, snapshot_up, rendered_up, env["BENCH_TOKEN"])
        runs, status = measure(targets, args)
    result = {"size": size, "seed_seconds": seed_seconds, "urls": {name: url for name, url, _h in targets}}
    result.update(runs=runs, status=status)
    if size == args.write_size or args.smoke:
        result["writes"] = bench_writes(env, args, log)
    return result


def bench_writes(env, args, log):
    """POST /api/users with 4 workers: the app against the minimal Flask-SQLAlchemy insert app."""
    insert_db = Path(args.workdir) / "insert-baseline.db"
    insert_db.unlink(missing_ok=True)
    insert_env = {"BENCH_INSERT_DB": str(insert_db)}
    flask_env = {**os.environ, **insert_env}
    subprocess.run([sys.executable, str(BENCH / "insert_app.py")], env=flask_env, cwd=BENCH, check=True)
    workers = 1 if args.smoke else 4
    app_env = {**env, "WEB_CONCURRENCY": str(workers)}
    with (
        Server("insert_app:app", workers, env=insert_env, log=log) as baseline,
        Server("wsgi:app", workers, env=app_env, config="gunicorn_app.py", cwd=ROOT, log=log) as app,
    ):
        baseline.wait("/api/users")
        app.wait("/healthz")
        targets = [
            ("POST minimal insert app (baseline)", f"{baseline.url}/api/users", None),
            ("POST /api/users", f"{app.url}/api/users", {"Authorization": f"Bearer {env['BENCH_TOKEN']}"}),
        ]
        runs, status = measure(targets, args, script=str(BENCH / "post.lua"))
    return {"runs": runs, "status": status, "urls": {name: url for name, url, _h in targets}}


def main():
    args = parse_args()
    if not args.smoke and not wrk.available():
        raise SystemExit(wrk.INSTALL_HINT)
    sizes = [200] if args.smoke else [int(s) for s in args.sizes.split(",")]
    if args.write_size not in sizes:
        args.write_size = sizes[len(sizes) // 2]
    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    log = str(Path(args.workdir) / "servers.log")
    machine = report.machine()
    results = [bench_size(size, args, log) for size in sizes]
    machine["load_after"] = os.getloadavg()
    if args.smoke:
        failed = report.smoke_table(results)
        raise SystemExit(1 if failed else 0)
    text = report.markdown(results, machine, args, " ".join(sys.argv))
    print(text)
    report.write(args.output, text)
    (Path(args.workdir) / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
