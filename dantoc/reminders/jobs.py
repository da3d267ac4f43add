"""Reminders as an on-demand job (``flask reminders plan`` and the worker's tick do the same)."""

from __future__ import annotations

from ..jobs.models import Job
from ..jobs.queue import Progress, register
from . import planner

KIND = "reminders.plan"


@register(KIND)
def run(job: Job, progress: Progress) -> dict:
    """Decide today's reminders now; the worker sends them."""
    return {"reminders": planner.plan(commit=False)}
