"""Every kind of background job, registered by importing the module that defines it."""

from __future__ import annotations


def load() -> None:
    from ..catalogs import jobs as catalog_jobs  # noqa: F401
    from ..lookup import jobs as lookup_jobs  # noqa: F401
    from ..reminders import jobs as reminder_jobs  # noqa: F401
    from ..reports import jobs as report_jobs  # noqa: F401
    from ..submissions import jobs as submission_jobs  # noqa: F401
