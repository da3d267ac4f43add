"""One cache of compiled SQL for every test app's engine.

SQLAlchemy compiles each statement once per engine and keeps it in the engine's cache,
keyed by the engine's dialect object. Every test app has an engine of its own (one database
each), so every test compiled again the statements the test before it had compiled: about a
tenth of the suite's own CPU (py-spy, ``Compiled.__init__``). :class:`SharedCompiledCache`
is given to every test engine as its ``compiled_cache`` execution option (documented:
"a dictionary where Compiled objects will be cached"); it keys a statement by what its
compiled form depends on in the dialect (class, server version, parameter style, limits and
flags read from the server) instead of by the dialect object, so engines of one kind share
one compiled statement. Production has one engine per process and keeps SQLAlchemy's cache.
"""

from __future__ import annotations

#: The dialect attributes a compiled statement depends on, besides its class.
_DIALECT_SETTINGS = (
    "server_version_info", "paramstyle", "positional", "label_length",
    "max_identifier_length", "supports_native_boolean", "use_insertmanyvalues",
    "insert_returning", "update_returning", "delete_returning", "supports_multivalues_insert",
    "implicit_returning", "default_schema_name", "_json_serializer", "_json_deserializer",
)


class SharedCompiledCache:
    """A ``compiled_cache`` shared by engines of the same kind (see the module docstring)."""

    def __init__(self):
        self._compiled: dict = {}  # one assignment per statement: atomic under the GIL

    @staticmethod
    def _key(key: tuple) -> tuple:
        dialect, *rest = key
        kind = (type(dialect), *(getattr(dialect, name, None) for name in _DIALECT_SETTINGS))
        return (kind, *rest)

    def get(self, key, default=None):
        return self._compiled.get(self._key(key), default)

    def __setitem__(self, key, compiled) -> None:
        self._compiled[self._key(key)] = compiled


COMPILED_SQL = SharedCompiledCache()
