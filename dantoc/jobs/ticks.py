"""Periodic work done by every worker between jobs: planning and sending reminders, and
dropping the files of old exports."""

from __future__ import annotations

import time

from flask import current_app

_last_plan: dict[str, float] = {}


def run_ticks(worker: str) -> bool:
    """Plan reminders (and drop old export files) every ``REMINDER_PLAN_SECONDS``, send the
    due reminders; True if any sent."""
    from ..reminders import planner, sender
    from .queue import forget_old_files

    moment = time.monotonic()
    every = current_app.config["REMINDER_PLAN_SECONDS"]
    planning = moment - _last_plan.get(worker, -every) >= every
    if planning:
        _last_plan[worker] = moment
        forget_old_files()
    if not current_app.config.get("REMINDERS_ENABLED", True):
        return False
    if planning:
        planner.plan()
    return sender.send_due(worker) > 0
