"""Village-head data entry: submissions, their versions and values, and the reviewer's field
comments on a returned version (the village reads them; :mod:`dantoc.review` writes them)."""
