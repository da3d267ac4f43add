"""Periodic work done by every worker between jobs: planning and sending reminders."""

from __future__ import annotations

import time

from flask import current_app

_last_plan: dict[str, float] = {}


def run_ticks(worker: str) -> bool:
    """Plan reminders every ``REMINDER_PLAN_SECONDS``, send the due ones; True if any sent."""
    from ..reminders import planner, sender

    if not current_app.config.get("REMINDERS_ENABLED", True):
        return False
    moment = time.monotonic()
    every = current_app.config["REMINDER_PLAN_SECONDS"]
    if moment - _last_plan.get(worker, -every) >= every:
        _last_plan[worker] = moment
        planner.plan()
    return sender.send_due(worker) > 0
