"""The test client used by every test."""

from flask import g, has_app_context
from flask.testing import FlaskClient


class FreshClient(FlaskClient):
    """A test client whose every request starts with an empty ``g``, as in production.

    The ``app`` fixture keeps one app context pushed for the whole test, and Flask reuses it
    for test requests, so ``g`` (where Flask-Login caches the signed-in user and the rate
    limiter keeps its state) would otherwise leak from one request into the next.
    """

    def open(self, *args, **kwargs):
        if has_app_context():  # a request from another thread pushes its own context
            for name in list(g):
                g.pop(name, None)
        return super().open(*args, **kwargs)
