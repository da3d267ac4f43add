"""Commune review: the officer's inbox, the review page, approve and return with a reason."""
