"""Template settings shared by every domain; the factory passes the globals the domains
need (``can``, the state names), so this package imports no domain."""

from __future__ import annotations

from typing import Any

from flask import Flask


def init_app(app: Flask, **template_globals: Any) -> None:
    app.jinja_env.globals.update(template_globals)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
