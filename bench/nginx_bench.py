"""`/users` through nginx (TLS, deploy/nginx.conf) next to gunicorn alone, with wrk.

    .venv/bin/python bench/nginx_bench.py [--users 10000] [--duration 4] [--rounds 2]

Same gunicorn (gunicorn.conf.py, HTTPS=1, PROXY_COUNT=1) for both; alternating rounds; prints a
Markdown table for bench/RESULTS.md. Needs nginx, openssl and wrk. GUNICORN_WORKER_CLASS=sync
GUNICORN_THREADS=1 compares with sync workers.
"""

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import wrk

from tests.deploy_stack import Nginx, Visitor
from tests.procs import Gunicorn, app_env, create_admin, flask, migrated_database


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not wrk.available():
        sys.exit(wrk.INSTALL_HINT)
    with tempfile.TemporaryDirectory(prefix="nginx-bench-") as folder:
        folder = Path(folder)
        env = app_env(migrated_database(folder), folder / "instance", HTTPS="1", PROXY_COUNT="1")
        seeded = flask(env, "seed", "--users", str(args.users), "--posts-per-user", "3", timeout=600)
        assert seeded.returncode == 0, seeded.stderr
        admin = create_admin(env)
        gunicorn = Gunicorn(env, folder / "gunicorn.log", workers=args.workers)
        try:
            nginx = Nginx(folder / "nginx", gunicorn.address)
            try:
                # Read signed in, as people do: one sign-in through nginx, its cookie sent by wrk.
                person = Visitor(nginx.port, nginx.cert)
                assert person.sign_in(*admin)[0] == 303
                cookie = {"Cookie": f"session={person.cookies['session']}"}
                targets = {
                    "gunicorn alone (http)": f"http://127.0.0.1:{gunicorn.address[1]}/users",
                    "nginx → gunicorn (https)": f"https://127.0.0.1:{nginx.port}/users",
                }
                results = {name: [] for name in targets}
                for _ in range(args.rounds):
                    for name, url in targets.items():
                        results[name].append(wrk.run(url, args.duration, headers=cookie))
            finally:
                nginx.stop()
        finally:
            gunicorn.stop()
    kind = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
    threads = os.environ.get("GUNICORN_THREADS", "4")
    workers = f"{args.workers} workers ({kind}, {threads} threads)"
    print(f"\n`/users` page 1 signed in, {args.users} users, {workers},")
    print(f"wrk -t2 -c16, {args.rounds} alternating rounds of {args.duration} s; medians:\n")
    print("| target | req/s | p50 ms | p99 ms | errors |")
    print("|---|---|---|---|---|")
    for name, runs in results.items():
        rps = statistics.median(r["rps"] for r in runs)
        p50 = statistics.median(r["p50"] for r in runs)
        p99 = statistics.median(r["p99"] for r in runs)
        errors = sum(r["errors"] for r in runs)
        print(f"| {name} | {rps:.0f} | {p50:.1f} | {p99:.1f} | {errors} |")


if __name__ == "__main__":
    main()
