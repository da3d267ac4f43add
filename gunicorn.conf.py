"""gunicorn settings; every value can be overridden with GUNICORN_* variables or flags."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:5000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
# Keep the body of a village head's slow 2G upload in the kernel buffer, not in a worker.
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
# Load the application once, in the master, and fork the workers from it: a worker recycled
# by max_requests then starts at once instead of importing and building the application
# again (about 1.2 s of CPU each time, 0.6 ms per request over its 2,000 requests). A code
# change therefore needs a restart (docs/deployment.md §3 restarts); a HUP re-forks the
# same code. GUNICORN_PRELOAD=0 loads it in each worker instead.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") != "0"
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# gunicorn 27's control socket defaults to one shared path per user; several dantoc servers
# (tests, a province's staging and production) on one machine must not share it.
control_socket_disable = os.environ.get("GUNICORN_CONTROL_SOCKET", "") == ""
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]


def when_ready(server):
    """In the master of a preloaded application, before the first worker is forked: compile
    the templates and load the interface catalogs once (dantoc.warm), for every worker (a
    template change then needs a restart too, like a code change)."""
    if server.cfg.preload_app:
        import gc

        from dantoc import warm

        warm(server.app.wsgi())
        # What the master built (the application, its templates and catalogs: about 200,000
        # objects) lives as long as the workers: out of the collector's sight, a worker's
        # full collections do not walk it (about 80 ms each, 0.04 ms a request) nor write
        # its objects' headers, which copied their shared pages into every worker.
        gc.collect()
        gc.freeze()


def post_fork(server, worker):
    """A forked worker opens its own database connections: drop any the master's copy of
    the application holds (it opens none while it is built, but never share a socket)."""
    if server.cfg.preload_app:
        from dantoc.extensions import db

        with server.app.wsgi().app_context():
            for engine in db.engines.values():
                engine.dispose(close=False)
