"""Background jobs: long work (large imports, reminder sending) run by ``flask jobs work``,
with progress the person can watch, leave and come back to (docs/jobs.md)."""
