"""The versioned JSON API (``/api/v1/``): read services for the catalogs and the form
definitions, for the ministry's system and for another dantoc instance (docs/api.md).

Machine clients authenticate with a bearer token (:mod:`.clients`), never with a browser
session; what a client may do is the verbs of its role, checked by the one ``can()``.
"""
