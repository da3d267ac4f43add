"""Clearly marked sample data for trying the system: ``flask seed-demo``.

Everything invented here says so: names end in "(mẫu)", villages are flagged ``is_sample``,
the demo questionnaire lives in its own local catalogue ``LC-DEMO``. The real annex of
TT 06/2025/TT-BDTTG could not be retrieved, so no indicator here is presented as official.
Runs after ``flask seed-reference``; running it again changes nothing.
"""

from __future__ import annotations

from .accounts import seed_accounts
from .catalogue import seed_catalogue
from .documents import seed_documents
from .history import seed_history
from .questionnaires import seed_periods, seed_questionnaires
from .units import DemoError, seed_departments, seed_villages

__all__ = ["DemoError", "seed", "seed_content", "seed_history"]


def seed() -> list[tuple[str, str, str]]:
    """Load the sample data (flushed, not committed) and return the demo sign-ins as
    (role label, username, password).

    :raise DemoError: when the reference catalogs are missing (run ``flask seed-reference``).
    """
    departments, villages = seed_content()
    return seed_accounts(departments, villages)


def seed_content() -> tuple[dict, list]:
    """Everything but the accounts: departments, villages, catalogues, forms, periods and
    the sample document library.

    :raise DemoError: when the reference catalogs are missing.
    """
    departments = seed_departments()
    villages = seed_villages()
    seed_catalogue(departments)
    seed_questionnaires()
    seed_periods()
    seed_documents(departments)
    return departments, villages
