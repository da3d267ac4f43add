"""Template settings shared by every domain; the factory passes the globals the domains
need (``can``, the state names), so this package imports no domain."""

from __future__ import annotations

from typing import Any

from flask import Flask


def init_app(app: Flask, **template_globals: Any) -> None:
    app.jinja_env.globals.update(template_globals)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True


def precompile(app: Flask) -> None:
    """Compile every template now (Jinja keeps them in its environment): processes forked
    from this one (gunicorn's workers, a recycled one too) then start with them compiled
    instead of compiling those they use on their first requests."""
    for name in app.jinja_env.list_templates():
        app.jinja_env.get_template(name)
