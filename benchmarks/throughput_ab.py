"""Server CPU per request of two source trees side by side on SQLite, for a shared machine:
both servers run at once and take turns in short steps, so that both see the same load.

    .venv/bin/python benchmarks/throughput_ab.py --a /path/to/main/checkout [--b .]
        [--rounds 12] [--step 2] [--villages 400] [--db-a A.sqlite3] [--db-b B.sqlite3]

``benchmarks/throughput.py`` runs one tree after the other; on a machine whose other
processes come and go (two cores shared with test runs), CPU time per request then moves
by a third from one minute to the next whatever the code, and a pair of runs says little.
Here each tree gets its own gunicorn (``gunicorn.conf.py`` of that tree, 3 sync workers
unless ``GUNICORN_WORKERS``; ``--workers-a``/``--workers-b`` to compare worker counts) and
its own copy of its own database (prepared by that tree's migrations and demo commands, or
the ``--db-*`` given: a copy is used, the file is not changed). Each round sends the form
GETs, then the submits, for ``--step`` seconds to one server and then to the other (the
order alternates; the clients go 1, 2, 4, 1, 2, 4…). Printed per request kind: CPU ms per
request of each tree over all its steps (user + system of the gunicorn master and workers,
as ``throughput.py`` counts it), the median of its steps, and the median of B/A per round.
Each tree's database has 11 × ``--villages`` submits to give: 12 rounds of 2 s use about
3,000 at 400 villages.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import support, throughput


def prepare(root: Path, villages: int) -> Path:
    """A database built by ``root``'s own migrations and demo commands."""
    path = Path(tempfile.mkdtemp(prefix="dantoc-ab-"), "prepared.sqlite3")
    env = support.environment(f"sqlite:///{path}")
    for args in (["db", "upgrade"], ["seed-reference"], ["seed-demo"],
                 ["demo", "scale", "--villages", str(villages), "--heads", "--empty"]):
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=root,
                       env=env, check=True, capture_output=True)
    return path


class Server(throughput.Server):
    """``throughput.Server`` for the tree at ``root`` with ``workers`` workers."""

    def __init__(self, url: str, root: Path, workers: str):
        super().__init__(url)
        self.root, self.workers = root, workers

    def __enter__(self) -> Server:
        env = support.environment(self.url)
        env.update(GUNICORN_BIND=f"127.0.0.1:{self.port}", GUNICORN_WORKERS=self.workers)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=self.root, env=env, stdout=subprocess.DEVNULL, stderr=self.log.open("wb"))
        throughput.wait_for(self.port)
        return self


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", type=Path, required=True, help="the tree measured first")
    parser.add_argument("--b", type=Path, default=support.ROOT)
    parser.add_argument("--db-a", type=Path)
    parser.add_argument("--db-b", type=Path)
    parser.add_argument("--villages", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--step", type=float, default=2.0)
    parser.add_argument("--kinds", default="form GET,submit")
    default_workers = os.environ.get("GUNICORN_WORKERS", "3")
    parser.add_argument("--workers-a", default=default_workers)
    parser.add_argument("--workers-b", default=default_workers)
    args = parser.parse_args()
    kinds = args.kinds.split(",")
    sides = {}
    for name, root, kept, workers in (("A", args.a, args.db_a, args.workers_a),
                                      ("B", args.b, args.db_b, args.workers_b)):
        path = Path(tempfile.mkdtemp(prefix="dantoc-ab-"), "bench.sqlite3")
        shutil.copyfile(kept or prepare(root.resolve(), args.villages), path)
        url = f"sqlite:///{path}"
        sides[name] = (Server(url, root.resolve(), workers), support.targets(url))
    print(f"load average before: {os.getloadavg()}, {os.cpu_count()} CPUs", flush=True)
    steps: dict[tuple[str, str], list[tuple[float, int]]] = {
        (side, kind): [] for side in sides for kind in kinds}
    with sides["A"][0] as server_a, sides["B"][0] as server_b:
        servers = {"A": server_a, "B": server_b}
        makers = {side: throughput.makers(target) for side, (_s, target) in sides.items()}
        for side in sides:  # every worker of both servers serves each kind first
            throughput.warm_up(servers[side].port, [makers[side][kind] for kind in kinds])
        for number in range(args.rounds):
            clients = (1, 2, 4)[number % 3]
            for kind in kinds:
                for side in ("A", "B") if number % 2 == 0 else ("B", "A"):
                    master = servers[side].process.pid
                    before = throughput.server_cpu(master)
                    step, _wall = throughput.run_step(servers[side].port, makers[side][kind],
                                                      clients, args.step)
                    done = len(step.latencies) + step.failures
                    if step.failures:
                        print(f"{side} {kind}: failures {step.statuses}", flush=True)
                    steps[(side, kind)].append((throughput.server_cpu(master) - before, done))
    print(f"load average after: {os.getloadavg()}")
    for kind in kinds:
        line = []
        for side in sides:
            runs = [(cpu, done) for cpu, done in steps[(side, kind)] if done]
            total = 1000 * sum(c for c, _d in runs) / sum(d for _c, d in runs)
            median = statistics.median(1000 * c / d for c, d in runs)
            line.append(f"{side}: {total:.2f} ms/req (median of steps {median:.2f}, "
                        f"{sum(d for _c, d in runs)} requests)")
        ratios = [(cb / db) / (ca / da) for (ca, da), (cb, db)
                  in zip(steps[("A", kind)], steps[("B", kind)], strict=True)
                  if da and db and ca]
        print(f"{kind}: " + " | ".join(line) + f" | B/A median {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
