"""Unit reports: completeness, the commune report and its approval by the level above."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")
