"""The bench's tables and target checks, written as Markdown to bench/RESULTS.md."""

import os
import platform
import statistics
import subprocess
import time
from pathlib import Path

NOTES_HEADING = "## Notes"


def machine():
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []:
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    # Smoke runs work without wrk, so a missing one is reported, not raised.
    try:
        wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()
    except FileNotFoundError:
        wrk_version = ["wrk not installed"]
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "system": f"{platform.system()} {platform.release()}, Python {platform.python_version()}",
        "wrk": wrk_version[0] if wrk_version else "wrk",
        "load_before": os.getloadavg(),
    }


def median(runs, key):
    return statistics.median(run[key] for run in runs)


def rps(result, name, writes=False):
    runs = (result.get("writes", {}) if writes else result)["runs"].get(name)
    return median(runs, "rps") if runs else None


def page_rows(block):
    rows = []
    for name in block["urls"]:
        runs = block["runs"].get(name)
        if runs:
            each = " / ".join(f"{run['rps']:.0f}" for run in runs)
            errors = sum(run["errors"] for run in runs)
            rows.append(
                f"| {name} | {median(runs, 'rps'):.0f} | {median(runs, 'p50'):.1f} "
                f"| {median(runs, 'p99'):.1f} | {errors} | {each} |"
            )
        else:
            status = block["status"].get(name)
            why = "not available" + (f" (HTTP {status})" if status else "")
            rows.append(f"| {name} | {why} | | | | |")
    return rows


def ratio(numerator, denominator):
    return numerator / denominator if numerator and denominator else None


def by_size(results, preferred):
    sizes = {r["size"]: r for r in results}
    return sizes.get(preferred) or results[-1]


def targets(results):
    """(target, measured ratio or value, goal, met) for every target of the issue."""
    ref = by_size(results, 100_000)
    rendered = "/users page 1, rendered (page cache off)"
    small, large = results[0], results[-1]
    deep = next((n for n in ref["urls"] if n.endswith("(next link)")), None)
    typed = next((n for n in ref["urls"] if n.startswith("/users?page=")), None)
    rows = [
        (
            f"/users page 1 vs raw sqlite3, {ref['size']} users",
            ratio(rps(ref, "/users page 1"), rps(ref, "raw sqlite3 /users (baseline)")),
            1.2,
        ),
        (
            f"/users page 1 vs hello world, {ref['size']} users",
            ratio(rps(ref, "/users page 1"), rps(ref, "hello world (baseline)")),
            0.3,
        ),
        (
            f"/users page 1 rendered (page cache off) vs raw sqlite3, {ref['size']} users",
            ratio(rps(ref, rendered), rps(ref, "raw sqlite3 /users (baseline)")),
            1.2,
        ),
        (
            f"/users page 1 answered 304 vs hello world, {ref['size']} users",
            ratio(rps(ref, "/users page 1, 304 (If-None-Match)"), rps(ref, "hello world (baseline)")),
            0.6,
        ),
    ]
    for result in results:
        deep = next((n for n in result["urls"] if n.endswith("(next link)")), None)
        typed = next((n for n in result["urls"] if n.startswith("/users?page=")), None)
        for name in (deep, typed):
            rows.append(
                (
                    f"{name} vs page 1, {result['size']} users",
                    ratio(rps(result, name), rps(result, "/users page 1")),
                    0.9,
                )
            )
    rows.append(
        (
            f"/users page 1 at {large['size']} vs at {small['size']} users",
            ratio(rps(large, "/users page 1"), rps(small, "/users page 1")),
            0.8,
        )
    )
    writes = next((r for r in results if "writes" in r), None)
    if writes:
        post = writes["writes"]["runs"].get("POST /api/users")
        errors = sum(r["errors"] for r in post) if post else None
        rows.append(("POST /api/users, 4 workers: errors", errors, 0))
        rows.append(
            (
                f"POST /api/users vs minimal insert app, {writes['size']} users",
                ratio(
                    rps(writes, "POST /api/users", True),
                    rps(writes, "POST minimal insert app (baseline)", True),
                ),
                0.8,
            )
        )
    for result in results:
        rows.append(
            (
                f"/users page 1 signed in vs anonymous (public), {result['size']} users",
                ratio(rps(result, "/users page 1"), rps(result, "/users page 1, anonymous (public)")),
                0.9,
            )
        )
    rows.append(
        (
            f"snapshot vs file mode, /users page 1, {ref['size']} users (both from the page cache)",
            ratio(rps(ref, "/users page 1, snapshot mode"), rps(ref, "/users page 1")),
            2.0,
        )
    )
    rows.append(
        (
            f"snapshot vs file mode rendering each request (page cache off), {ref['size']} users",
            ratio(rps(ref, "/users page 1, snapshot mode"), rps(ref, rendered)),
            2.0,
        )
    )
    for result in results:
        rows.append(
            (
                f"flask seed --users {result['size']} (seconds)",
                result["seed_seconds"],
                60 if result["size"] >= 1_000_000 else None,
            )
        )
    return rows


def target_rows(results):
    lines = ["| target | measured | goal | met |", "|---|---|---|---|"]
    for name, value, goal in targets(results):
        if value is None:
            lines.append(f"| {name} | not available | {goal} | – |")
            continue
        if goal is None:
            lines.append(f"| {name} | {value:.1f} | | |")
            continue
        if name.endswith("errors"):
            met, shown, goal_text = value == goal, str(value), "0"
        elif name.endswith("(seconds)"):
            met, shown, goal_text = value <= goal, f"{value:.1f} s", f"≤ {goal} s"
        else:
            met, shown, goal_text = value >= goal, f"{value:.2f}×", f"≥ {goal}×"
        lines.append(f"| {name} | {shown} | {goal_text} | {'yes' if met else 'NO'} |")
    return lines


def markdown(results, machine, args, command):
    load = "/".join(f"{x:.1f}" for x in machine["load_before"])
    load_after = "/".join(f"{x:.1f}" for x in machine["load_after"])
    out = [
        "# Bench results",
        "",
        f"- Date: {machine['date']}",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores; {machine['system']}; {machine['wrk']}",
        f"- Load average (1/5/15 min) before: {load}, after: {load_after}",
        f"- Command: `{command}` (`make bench`)",
        f"- wrk: 2 threads × 16 connections, {args.duration} s a run, {args.rounds} alternating rounds, "
        f"medians shown; gunicorn {os.environ.get('GUNICORN_WORKER_CLASS', 'gthread')} workers "
        f"(2 for reads, 4 for POST; the project's gunicorn.conf.py), access log off",
        f"- Data: `flask seed --users N --posts-per-user {args.posts_per_user}`; lists use per_page={50}",
        "- The app's pages are read signed in as an admin (wrk sends the session cookie; the API "
        "rows a bearer token); the `anonymous (public)` row is the same page with READ_ACCESS=public",
        "",
        "## Targets",
        "",
        *target_rows(results),
    ]
    for result in results:
        out += [
            "",
            f"## {result['size']} users, {result['size'] * args.posts_per_user} posts "
            f"(seeded in {result['seed_seconds']:.1f} s)",
            "",
            "| page | req/s (median) | p50 ms | p99 ms | errors | req/s of each run |",
            "|---|---|---|---|---|---|",
            *page_rows(result),
        ]
        if "writes" in result:
            out += page_rows(result["writes"])
    return "\n".join(out) + "\n"


def write(path, text):
    """Write the report, keeping a hand-written `## Notes` section at the end of the old file."""
    path = Path(path)
    notes = ""
    if path.exists() and NOTES_HEADING in path.read_text():
        notes = "\n" + NOTES_HEADING + path.read_text().split(NOTES_HEADING, 1)[1]
    path.write_text(text + notes)


def smoke_table(results):
    """Print each URL's status; True when any page failed with a server error."""
    failed = False
    for result in results:
        blocks = [result, *([result["writes"]] if "writes" in result else [])]
        for block in blocks:
            for name, url in block["urls"].items():
                status = block["status"].get(name)
                failed |= status is not None and status >= 500
                print(f"{status or '-':>4}  {name}  {url or ''}")
    return failed
