"""Accounts screens: sign-in and sessions, phone enrolment and PIN unlock, user admin."""

from . import auth, device, users  # noqa: F401  (each attaches its routes to bp)
from .blueprint import bp

__all__ = ["bp"]
