"""Where the server's time goes for the village head's form GET and submit: pyinstrument
over N requests in one process (Flask's test client, no network), SQLite by default.

    .venv/bin/python benchmarks/profile_entry.py --requests 200 [--url postgresql+psycopg://…]

Each head's client sends the session cookie the server last set for it, as a phone keeps
it. Prints the CPU ms per request (process time) and pyinstrument's call tree of each kind, cut
at 2 % of the time; docs/benchmarks.md keeps the summaries before and after.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import support


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--url", help="database URL (default: a new SQLite file)")
    parser.add_argument("--villages", type=int, default=100)
    parser.add_argument("--show", type=float, default=2.0, help="hide frames below this %%")
    parser.add_argument("--no-profile", action="store_true",
                        help="only the CPU per request, without the profiler's overhead")
    args = parser.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp(prefix='dantoc-prof-')}/bench.sqlite3"
    if url.startswith("postgresql"):
        support.reset_postgresql(url)
    support.prepare(url, args.villages)
    target = support.targets(url)

    from pyinstrument import Profiler

    from dantoc import create_app

    app = create_app()
    pairs = itertools.product(target.periods, target.heads)
    kinds = {"form GET": lambda client, head, period: client.get(
        support.form_path(head.unit_id, period)),
             "submit": lambda client, head, period: client.post(
        support.form_path(head.unit_id, period), data=support.body(target, head),
        headers={"HX-Request": "true"})}
    for name, send in kinds.items():
        runs = []
        for _ in range(args.requests + 20):
            period, head = next(pairs)
            client = app.test_client()
            client.set_cookie(target.cookie_name, head.cookie)
            runs.append((client, head, period))
        for client, head, period in runs[:20]:  # warm up: imports, templates, caches
            assert send(client, head, period).status_code == 200
        profiler = Profiler(interval=0.0005)
        started = time.process_time()
        if not args.no_profile:
            profiler.start()
        for client, head, period in runs[20:]:
            client.set_cookie(target.cookie_name, head.cookie)  # as the head's phone keeps it
            response = send(client, head, period)
            assert response.status_code == 200, response.status_code
            for cookie in response.headers.getlist("Set-Cookie"):
                support.keep_cookie(target, head, cookie)
        cpu = (time.process_time() - started) * 1000 / args.requests
        how = "without profiler" if args.no_profile else "profiled"
        print(f"\n=== {name}: {cpu:.2f} ms CPU per request ({how}, {args.requests} requests)")
        if args.no_profile:
            continue
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False,
                                   time="percent_of_total",
                                   processor_options={"filter_threshold": args.show / 100}))


if __name__ == "__main__":
    main()
