"""WSGI entry point: ``gunicorn -c gunicorn.conf.py wsgi:app``."""

from dantoc import create_app

app = create_app()
