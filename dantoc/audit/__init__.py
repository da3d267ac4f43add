"""Append-only audit trail: one row per state change, in the same transaction."""
