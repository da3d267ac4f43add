"""Unit reports: the aggregate of one form for one commune (or district) and period."""
