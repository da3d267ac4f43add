"""``flask reminders plan`` / ``flask reminders send``: what the worker does on its own."""

from __future__ import annotations

import click
from flask.cli import AppGroup

reminders_cli = AppGroup("reminders", help="Reminders to late villages (docs/reminders.md).")


@reminders_cli.command("plan")
def plan_command() -> None:
    """Decide today's reminders now (at most one per village, form, period and day)."""
    from . import planner

    click.echo(f"reminders decided: {planner.plan()}")


@reminders_cli.command("send")
def send_command() -> None:
    """Send the due messages once (outside quiet hours)."""
    from ..jobs.queue import worker_name
    from . import sender

    click.echo(f"messages sent: {sender.send_due(worker_name())}")
