"""Offline outbox support on the server: the quarantine of refused submissions."""
