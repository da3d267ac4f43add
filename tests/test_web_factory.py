"""The app factory, configuration and headers every response carries."""

import pytest

from dantoc import create_app
from dantoc.config import ConfigError, normalise_database_url


def test_missing_secret_key_is_an_error_in_production(monkeypatch):
    monkeypatch.delenv("DANTOC_SECRET_KEY", raising=False)
    monkeypatch.setenv("DANTOC_ENV", "production")
    with pytest.raises(ConfigError, match="DANTOC_SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_development_gets_a_random_secret_key(monkeypatch):
    monkeypatch.delenv("DANTOC_SECRET_KEY", raising=False)
    monkeypatch.setenv("DANTOC_ENV", "development")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert len(app.config["SECRET_KEY"]) >= 32


def test_production_cookies_are_secure_host_prefixed(monkeypatch):
    monkeypatch.setenv("DANTOC_ENV", "production")
    monkeypatch.setenv("DANTOC_SECRET_KEY", "x" * 40)
    monkeypatch.delenv("DANTOC_SECURE_COOKIES", raising=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-session"
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["HSTS"] is True


def test_database_url_from_environment_uses_psycopg3(monkeypatch):
    monkeypatch.setenv("DANTOC_ENV", "development")
    monkeypatch.setenv("DANTOC_DATABASE_URL", "postgresql://u@db.example:5432/dantoc")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example:5432/dantoc"
    assert normalise_database_url("sqlite:///x") == "sqlite:///x"


def test_default_database_is_a_file_in_the_instance_folder(monkeypatch):
    monkeypatch.setenv("DANTOC_ENV", "development")
    monkeypatch.delenv("DANTOC_DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == (
        f"sqlite:///{app.instance_path}/dantoc.sqlite3")


def test_security_headers_on_every_response(client):
    response = client.get("/")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'",
                      "script-src 'self'"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "HX-Request" in response.headers["Vary"]


def test_critical_css_hash_matches_the_inlined_style(client):
    import base64
    import hashlib
    import re

    html = client.get("/").get_data(as_text=True)
    css = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in client.get("/").headers["Content-Security-Policy"]


def test_page_is_vietnamese_by_default(client):
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="vi">' in html


def test_vietnamese_even_when_the_browser_prefers_english(client):
    html = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="vi">' in html
    assert "Latest documents" not in html and "Văn bản mới" in html


def test_unknown_page_is_a_localised_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Traceback" not in response.get_data(as_text=True)


def test_fragment_request_gets_fragment_error(client):
    response = client.get("/no-such-page", headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert "<html" not in response.get_data(as_text=True)


def test_request_size_is_limited(app):
    assert app.config["MAX_CONTENT_LENGTH"] == 2 * 1024 * 1024


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_manifest(client):
    response = client.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    data = response.get_json()
    assert data["display"] == "standalone"
    assert data["start_url"] == "/"


def test_client_address_from_trusted_proxy_only(monkeypatch):
    from flask import request

    def remote_addr(**config):
        app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "ENV": "testing", **config})
        app.add_url_rule("/ip", "ip", lambda: request.remote_addr)
        client = app.test_client()
        return client.get("/ip", headers={"X-Forwarded-For": "203.0.113.7"}).get_data(
            as_text=True)

    assert remote_addr() == "127.0.0.1"  # untrusted header ignored by default
    assert remote_addr(TRUSTED_PROXIES=1) == "203.0.113.7"
