"""``dantoc.warm``: what gunicorn's master loads once for every worker it forks (templates
compiled, file-only interface catalogs chained), without touching the database."""

from __future__ import annotations

from dantoc import warm
from tests.test_statement_counts import counting


def test_warm_compiles_every_template_and_chains_the_file_catalogs(app):
    with counting() as statements:
        warm(app)
    assert statements == []  # the master opens no connection its workers would share
    names = app.jinja_env.list_templates()
    cached = {key[1] for key in app.jinja_env.cache}  # (loader weakref, name)
    assert set(names) <= cached
    chains = app.extensions["dantoc_translations"]
    assert {tags[0] for tags, stamp in chains if stamp == ()} == {"vi", "en"}
