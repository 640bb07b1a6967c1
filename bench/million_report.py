"""The "1M" section of bench/RESULTS.md, written by bench/million.py; the rest of the file is kept."""

import os
import platform
import re
import time
from pathlib import Path

HEADING = "## 1M rows: every kind of URL (bench/million.py)"
TARGET_MS = 50  # SPEC §14 and issue 12: every page under 50 ms at a million rows
NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def machine():
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    for line in cpuinfo.read_text().splitlines() if cpuinfo.exists() else []:
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "system": f"{platform.system()} {platform.release()}, Python {platform.python_version()}",
        "load_before": os.getloadavg(),
    }


def ms(row, requests):
    """The median and max of a row, the median in bold when it misses the target."""
    median = f"{row['median']:.1f}"
    if row["median"] > TARGET_MS:
        median = f"**{median}**"
    status = "" if row["status"] == "200" else f" (HTTP {row['status']})"
    count = "" if row["count"] == requests else f" (n={row['count']})"
    return f"{median} | {row['max']:.1f}{count}{status}"


def data_line(result):
    seeded = f"seeded in {result['seed_seconds']:.0f} s" if result["seed_seconds"] else "reused (--reuse)"
    return (
        f"- {NAMES[result['kind']]} ({result['server_version']}): {result['users']:,} users, "
        f"{result['posts']:,} posts, {seeded}"
    )


def url_table(results, requests):
    names = [NAMES[r["kind"]] for r in results]
    head = "| URL | " + " | ".join(f"{n} median ms | {n} max ms" for n in names) + " |"
    lines = [head, "|---|" + "---|---|" * len(results)]
    for n, row in enumerate(results[0]["rows"]):
        cells = " | ".join(ms(r["rows"][n], requests) for r in results)
        lines.append(f"| {row['kind']} `{row['path']}` | {cells} |")
    return lines


def slow_lines(results):
    lines = []
    for result in results:
        slow = [row["kind"] for row in result["rows"] if row["median"] > TARGET_MS]
        listed = "; ".join(slow) if slow else "none"
        lines.append(
            f"- {NAMES[result['kind']]}: {len(slow)} of {len(result['rows'])} over {TARGET_MS} ms: {listed}"
        )
    return lines


def export_table(results):
    if not any(r["exports"] for r in results):
        return []
    lines = ["", "| whole export | database | seconds | MB | lines | HTTP |", "|---|---|---|---|---|---|"]
    for result in results:
        for e in result["exports"]:
            lines.append(
                f"| `{e['path']}` | {NAMES[result['kind']]} | {e['seconds']:.1f} | {e['mb']:.0f} "
                f"| {e['lines']:,} | {e['status']} |"
            )
    return lines


def markdown(results, machine, args, command):
    load = "/".join(f"{x:.1f}" for x in machine["load_before"])
    load_after = "/".join(f"{x:.1f}" for x in machine["load_after"])
    return "\n".join(
        [
            HEADING,
            "",
            "Written by the script, replaced by its next run (hand-written notes belong in a section of "
            "their own).",
            "",
            f"- Date: {machine['date']}",
            f"- Machine: {machine['cpu']}, {machine['cores']} cores; {machine['system']}",
            f"- Load average (1/5/15 min) before: {load}, after: {load_after}",
            f"- Command: `{command}` (`make bench-million`)",
            *[data_line(r) for r in results],
            "- Also made once per database: a user with 1,000 posts, one with none (`flask seed --users 1`), "
            "and a post with a rare title (the API)",
            "- gunicorn, one worker (the project's gunicorn.conf.py, gthread), access log off; signed in "
            "as an admin (pages: session cookie; `/api`: bearer token; `/metrics`: METRICS_TOKEN); "
            "the page cache off (`PAGE_CACHE_BYTES=0`), so every request renders its page",
            f"- Each URL: {args.warmup} warm-up requests, then {args.requests} timed ones, one after another "
            "over one keep-alive connection on loopback; milliseconds from sending the request to the "
            f"last byte (CSV rows: to the first 64 KiB). Medians over {TARGET_MS} ms in bold. A URL "
            f"still running after {args.budget:.0f} s was timed 3 times only (n=3).",
            "",
            *url_table(results, args.requests),
            *export_table(results),
            "",
            *slow_lines(results),
            "",
        ]
    )


def write(path, text):
    """Put the section in place of the previous one, or at the end; everything else stays."""
    path = Path(path)
    old = path.read_text() if path.exists() else ""
    pattern = re.compile(re.escape(HEADING) + r".*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(old):
        new = pattern.sub(lambda _match: text + "\n", old, count=1)
    else:
        new = old.rstrip("\n") + "\n\n" + text
    path.write_text(new)
