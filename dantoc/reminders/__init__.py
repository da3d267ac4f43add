"""Reminders to villages whose report is due: decided in one transaction with their messages
(a transactional outbox), sent by the workers with retries (docs/reminders.md)."""
