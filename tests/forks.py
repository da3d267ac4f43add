"""The test suite's Python programs (gunicorn, ``flask`` commands, seed scripts) forked from a
server that has imported the application once, instead of started as fresh interpreters.

A fresh ``python -m gunicorn …`` or ``python -m flask --app wsgi …`` spends 2 to 3 s of CPU
importing dantoc, Flask, SQLAlchemy and the rest before it does anything; the suite starts
about 55 of them per database engine. :func:`Popen` and :func:`run` take the arguments of
``subprocess.Popen`` and ``subprocess.run`` and, for ``[sys.executable, "-m", module, …]``,
``[sys.executable, "-c", code, …]`` and the virtual environment's ``gunicorn`` script, fork the
program from multiprocessing's fork server (one per test process, started at the first use,
with :data:`PRELOAD` imported) and run it there as the interpreter would run it as
``__main__``: in its own working directory, with exactly the given environment, its standard
output and error on the given files, its own exit code. The application is still built in the
child (``wsgi`` is not preloaded: it builds the app at import); gunicorn is the real master,
forking its real workers. Anything else (other programs, other options) goes to
``subprocess`` unchanged, and ``DANTOC_TEST_FORKS=0`` sends everything there (to compare).

The fork server's children are its own, not the test process's: their CPU time reaches the
test process's (``times``, ``getrusage(RUSAGE_CHILDREN)``) through the fork server, which
this module stops and waits for when the test process exits.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import locale
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from multiprocessing import forkserver, reduction, resource_tracker
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENABLED = os.environ.get("DANTOC_TEST_FORKS", "1") != "0"

#: What the fork server imports before it forks anything: every ``dantoc`` module (the
#: blueprints and their views included), what ``flask`` commands and gunicorn import after
#: the application (its worker, HTTP parser and logging), this module (the children's entry
#: point) and pytest, so that the workers of tests/test_database_concurrency.py (which share
#: the one fork server a process has: multiprocessing starts it with the preload list of its
#: first use) import their module in 10 ms instead of 200. Not ``wsgi``, which builds the
#: application when imported, and nothing of the test suite's configuration: tests/conftest.py
#: gives Flask the test apps' URL map class when imported (:func:`_child` checks it is not
#: there). A name that fails to import is skipped by the fork server: the child then imports
#: it itself, slower but the same.
PRELOAD = [
    __name__,
    *sorted(".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            for path in (ROOT / "dantoc").rglob("*.py")),
    "flask.cli", "flask_migrate.cli", "flask_sqlalchemy.cli", "dotenv",
    "gunicorn.app.wsgiapp", "gunicorn.arbiter", "gunicorn.glogging", "gunicorn.workers.sync",
    "gunicorn.http.wsgi", "jinja2.ext", "logging.config", "logging.handlers", "runpy",
    "_strptime", "pytest",
]
#: The environment of the test process when this module was imported (at collection): the
#: fork server starts with it, whichever test (and its monkeypatched variables) first uses it.
_START_ENVIRON = dict(os.environ)
_started = False


def context() -> multiprocessing.context.ForkServerContext:
    """multiprocessing's fork-server context, its server importing :data:`PRELOAD`; started
    (once per process) with the environment this module was imported in."""
    global _started
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    if not _started:
        now = dict(os.environ)
        os.environ.clear()
        os.environ.update(_START_ENVIRON)
        try:
            forkserver.ensure_running()
        finally:
            os.environ.clear()
            os.environ.update(now)
        atexit.register(_stop)
        _started = True
    return ctx


def _stop() -> None:
    """At the test process's exit: stop what is still running of what it forked, then the
    fork server, and wait for it (so that the CPU time of its children is counted)."""
    for child in multiprocessing.active_children():
        if child.daemon:
            child.terminate()
    for child in multiprocessing.active_children():
        child.join(10)
        if child.exitcode is None:
            child.kill()
            child.join(5)
    server = forkserver._forkserver  # (its _stop() would wait without a limit)
    with server._lock:
        pid, alive = server._forkserver_pid, server._forkserver_alive_fd
        if pid is None:
            return
        os.close(alive)  # the server ends when every holder of this pipe's end has closed it
        server._forkserver_pid = server._forkserver_alive_fd = None
        deadline = time.monotonic() + 10
        while os.waitpid(pid, os.WNOHANG)[0] == 0:
            if time.monotonic() > deadline:
                return
            time.sleep(0.02)


# -- the parent's side ----------------------------------------------------------------------

def _program(args) -> tuple[str, str] | None:
    """What the fork server's child runs for ``args``: ("module", name), ("code", source) or
    ("gunicorn", script); None when it is not a program this module runs."""
    if not ENABLED or isinstance(args, (str, bytes)) or len(args) < 2:
        return None
    executable = os.fspath(args[0])
    if executable == sys.executable and len(args) >= 3 and args[1] in ("-m", "-c"):
        return ("module" if args[1] == "-m" else "code", os.fspath(args[2]))
    script = Path(sys.executable).with_name("gunicorn")
    if os.path.isabs(executable) and script.exists() and os.path.samefile(executable, script):
        return ("gunicorn", executable)
    return None


class _Fd:
    """A file descriptor of the test process, sent to the child with the process object
    (over the fork server's socket): the child gets a duplicate, as ``Popen`` gives one."""

    def __init__(self, fd: int):
        self.fd = fd

    def __reduce__(self):
        return _received, (reduction.DupFd(self.fd),)


def _received(dup) -> int:
    return dup.detach()


class Forked:
    """A program forked by the fork server: the part of ``subprocess.Popen`` the tests use."""

    def __init__(self, args, process: multiprocessing.process.BaseProcess, stdout=None,
                 stderr=None):
        self.args, self._process = args, process
        self.pid = process.pid
        self.stdout, self.stderr = stdout, stderr

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    def poll(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise subprocess.TimeoutExpired(self.args, timeout)
        return self._process.exitcode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        for stream in (self.stdout, self.stderr):
            if stream is not None:
                stream.close()
        self.wait()


def _fd_for(target, opened: list[int], pipes: dict, name: str, text: bool) -> int:
    """The test process's descriptor for a ``stdout``/``stderr`` argument of ``Popen``."""
    if target is None:
        return 1 if name == "stdout" else 2
    if target == subprocess.DEVNULL:
        fd = os.open(os.devnull, os.O_WRONLY)
        opened.append(fd)
        return fd
    if target == subprocess.PIPE:
        read, write = os.pipe()
        opened.append(write)
        pipes[name] = open(read, "r" if text else "rb")  # noqa: SIM115 (the caller closes it)
        return write
    return target if isinstance(target, int) else target.fileno()


def Popen(args, *, cwd=None, env=None, stdout=None, stderr=None, text=False,
          **kwargs) -> Forked | subprocess.Popen:
    """``subprocess.Popen(args, …)``, forked from the fork server when it can be (see the
    module's docstring)."""
    program = _program(args)
    if program is None or kwargs:
        return subprocess.Popen(args, cwd=cwd, env=env, stdout=stdout, stderr=stderr,
                                text=text, **kwargs)
    opened, pipes = [], {}
    try:
        out = _fd_for(stdout, opened, pipes, "stdout", text)
        err = out if stderr == subprocess.STDOUT else _fd_for(stderr, opened, pipes, "stderr",
                                                              text)
        process = context().Process(
            target=_child, daemon=True,
            args=(program, [os.fspath(a) for a in args], os.fspath(cwd or os.getcwd()),
                  dict(os.environ if env is None else env), _Fd(out), _Fd(err)))
        process.start()
    finally:
        for fd in opened:
            os.close(fd)
    return Forked(list(args), process, pipes.get("stdout"), pipes.get("stderr"))


def run(args, *, cwd=None, env=None, capture_output=False, text=False, timeout=None,
        check=False, **kwargs) -> subprocess.CompletedProcess:
    """``subprocess.run(args, …)``, forked from the fork server when it can be; the output
    is captured in temporary files (no pipe to drain while the program runs)."""
    if _program(args) is None or kwargs:
        return subprocess.run(args, cwd=cwd, env=env, capture_output=capture_output,
                              text=text, timeout=timeout, check=check, **kwargs)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        capture = {"stdout": out, "stderr": err} if capture_output else {}
        process = Popen(args, cwd=cwd, env=env, **capture)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise subprocess.TimeoutExpired(args, timeout, *_read(capture, text)) from None
        stdout, stderr = _read(capture, text)
    if check and process.returncode:
        raise subprocess.CalledProcessError(process.returncode, args, stdout, stderr)
    return subprocess.CompletedProcess(args, process.returncode, stdout, stderr)


def _read(capture: dict, text: bool) -> tuple:
    if not capture:
        return None, None
    found = []
    for stream in (capture["stdout"], capture["stderr"]):
        stream.seek(0)
        data = stream.read()
        if text:  # as subprocess decodes: the locale's encoding, universal newlines
            data = io.TextIOWrapper(io.BytesIO(data),
                                    encoding=locale.getpreferredencoding(False)).read()
        found.append(data)
    return tuple(found)


# -- the child's side -----------------------------------------------------------------------

def _child(program: tuple[str, str], argv: list[str], cwd: str, env: dict, out: int,
           err: int) -> None:
    """In the fork server's child: become the program (descriptors, directory, environment,
    arguments), run it as ``__main__``, and exit as the interpreter would."""
    # Not a multiprocessing worker: hold neither the fork server's "alive" pipe nor the
    # resource tracker's (a gunicorn worker would keep them open after the test process).
    for holder, attribute in ((forkserver._forkserver, "_forkserver_alive_fd"),
                              (resource_tracker._resource_tracker, "_fd")):
        fd = getattr(holder, attribute)
        if fd is not None:
            os.close(fd)
            setattr(holder, attribute, None)
    resource_tracker._resource_tracker._pid = None
    multiprocessing.current_process()._config.pop("daemon", None)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(out, 1)
    os.dup2(err, 2)
    os.close(out)
    os.close(err)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    code = 0
    try:
        _run(program, argv, cwd)
    except SystemExit as exit_:
        code = _exit_code(exit_.code)
    except BaseException:  # as the interpreter reports an uncaught exception
        sys.excepthook(*sys.exc_info())
        code = 1
    finally:
        _shutdown()
    os._exit(code)


def _run(program: tuple[str, str], argv: list[str], cwd: str) -> None:
    import runpy
    import types

    assert "tests.conftest" not in sys.modules, "the fork server imported the tests' setup"
    kind, name = program
    if kind == "gunicorn":  # the console script: sys.exit(run())
        from gunicorn.app.wsgiapp import run as gunicorn

        sys.argv = argv
        sys.exit(gunicorn())
    if kind == "module":  # python -m: the working directory first on the path
        sys.argv = [argv[0], *argv[3:]]
        sys.path.insert(0, cwd)
        runpy.run_module(name, run_name="__main__", alter_sys=True)
        return
    sys.argv = ["-c", *argv[3:]]  # python -c
    sys.path.insert(0, "")
    main = types.ModuleType("__main__")
    sys.modules["__main__"] = main
    exec(compile(name, "<string>", "exec"), main.__dict__)  # noqa: S102 (the test's own code)


def _exit_code(code) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _shutdown() -> None:
    """What the interpreter does on its way out: wait for the other threads, run the atexit
    functions, flush the standard streams."""
    import threading

    threading._shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
