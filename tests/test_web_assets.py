"""Static files under content-versioned URLs, cached for a year (dantoc/web/assets.py)."""

import os
import re

from flask import url_for

from dantoc.web import assets
from dantoc.web.assets import IMMUTABLE


def test_a_stylesheet_url_carries_its_content_version(app):
    folder = app.static_folder
    with app.test_request_context():
        url = url_for("static", filename="css/officer.css")
    digest = re.fullmatch(r"/static/css/officer\.css\?v=([0-9a-f]{12})", url).group(1)
    assert digest == assets.version(folder, "css/officer.css")
    assert digest != assets.version(folder, "css/lookup.css")


def test_the_current_version_is_kept_for_a_year_an_old_or_missing_one_is_not(app, client):
    with app.test_request_context():
        url = url_for("static", filename="css/lookup.css")
    current = client.get(url)
    current.close()
    assert current.status_code == 200 and current.headers["Cache-Control"] == IMMUTABLE
    for stale in ("/static/css/lookup.css?v=000000000000", "/static/css/lookup.css"):
        response = client.get(stale)
        response.close()
        assert response.status_code == 200
        assert "immutable" not in response.headers.get("Cache-Control", "")
    missing = client.get("/static/css/nothing.css?v=000000000000")
    assert missing.status_code == 404


def test_an_edited_file_gets_a_new_version(tmp_path):
    path = tmp_path / "a.css"
    path.write_text("p{color:red}")
    first = assets.version(str(tmp_path), "a.css")
    path.write_text("p{color:blue}")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert assets.version(str(tmp_path), "a.css") not in (first, None)
    assert assets.version(str(tmp_path), "missing.css") is None
