"""One URL map's compiled routes for every test app with the same routes.

Every test builds an app of its own (one per database), and werkzeug compiles each of its
~165 rules (parse, regex, URL builders) and inserts them into a state machine: about 18 ms
of the 22 ms ``create_app`` takes, or a seventh of the suite's own CPU (py-spy). The routes
do not depend on the database, so :class:`SharedMap` (the test apps' ``url_map_class``)
records the rules an app adds and, when the map is first read, takes the compiled matcher
and rules of an identical map built before (the same rules, endpoints, methods, defaults
and converters), building them once otherwise. An app that adds a route after its map was
read (the security tests' test-only routes) gets a private map of its own, as werkzeug's.

Production builds one app per process and keeps werkzeug's ``Map``.
"""

from __future__ import annotations

import copy
import threading

from werkzeug.routing import Map, Rule
from werkzeug.routing.matcher import StateMachineMatcher

#: Compiled (matcher, rules by endpoint) by map signature; guarded by ``_LOCK``.
_BUILT: dict[tuple, tuple[StateMachineMatcher, dict]] = {}
_LOCK = threading.Lock()


def _signature(rule: Rule) -> tuple:
    """What a rule's compiled form and its matching depend on."""
    redirect = rule.redirect_to
    return (type(rule), rule.rule, rule.endpoint, tuple(sorted(rule.methods or ())),
            repr(sorted((rule.defaults or {}).items())), rule.subdomain, rule.host,
            rule.build_only, rule.strict_slashes, rule.merge_slashes, rule.alias,
            rule.websocket, redirect if redirect is None or isinstance(redirect, str)
            else id(redirect), getattr(rule, "provide_automatic_options", None))


class SharedMap(Map):
    """A werkzeug ``Map`` that shares its compiled routes with identical maps (see the
    module's docstring). ``_matcher`` and ``_rules_by_endpoint``, which ``Map`` and
    ``MapAdapter`` read, are built (or borrowed) on first use."""

    def __init__(self, *args, **kwargs):
        self._pending: list[Rule] = []
        self._compiled: tuple[StateMachineMatcher, dict] | None = None
        self._private = False
        super().__init__(*args, **kwargs)

    # -- the attributes werkzeug reads -------------------------------------------------------

    @property
    def _matcher(self) -> StateMachineMatcher:
        return self._compile()[0]

    @_matcher.setter
    def _matcher(self, matcher: StateMachineMatcher) -> None:
        self._empty_matcher = matcher  # Map.__init__'s, with its merge_slashes

    @property
    def _rules_by_endpoint(self) -> dict:
        return self._compile()[1]

    @_rules_by_endpoint.setter
    def _rules_by_endpoint(self, _value: dict) -> None:
        pass  # Map.__init__'s empty dict: built on first use instead

    @property
    def merge_slashes(self) -> bool:
        return self._empty_matcher.merge_slashes

    @merge_slashes.setter
    def merge_slashes(self, value: bool) -> None:
        self._empty_matcher.merge_slashes = value

    # -- adding and compiling ------------------------------------------------------------------

    def add(self, rulefactory) -> None:
        rules = list(rulefactory.get_rules(self))
        self._pending += rules
        if self._compiled is not None:  # read already: from now on a map of its own
            if not self._private:
                self._compiled = None
                self._private = True
                self._compile()
            else:
                self._insert(rules, *self._compiled)
        self._remap = True

    def update(self) -> None:
        """Sort the rules before matching or building: a borrowed map was sorted when it was
        built and is only read; a private one is sorted as werkzeug does."""
        self._compile()
        if self._private:
            super().update()

    def _settings(self) -> tuple:
        return (self.default_subdomain, self.strict_slashes, self.merge_slashes,
                self.redirect_defaults, self.host_matching, self.sort_parameters,
                self.sort_key, tuple(sorted(self.converters.items())))

    def _insert(self, rules: list[Rule], matcher: StateMachineMatcher, by_endpoint: dict,
                owner: Map | None = None) -> None:
        for rule in rules:
            rule.bind(owner or self)
            if not rule.build_only:
                matcher.add(rule)
            by_endpoint.setdefault(rule.endpoint, []).append(rule)

    def _compile(self) -> tuple[StateMachineMatcher, dict]:
        if self._compiled is not None:
            return self._compiled
        if self._private:
            self._compiled = (self._empty_matcher, {})
            self._insert(self._pending, *self._compiled)
            return self._compiled
        key = (self._settings(), tuple(_signature(rule) for rule in self._pending))
        with _LOCK:
            if key not in _BUILT:
                # Copies of this map's rules, bound to a plain map with the same settings,
                # so that this map's own rules stay unbound for a private map later.
                owner = Map(default_subdomain=self.default_subdomain,
                            strict_slashes=self.strict_slashes,
                            merge_slashes=self.merge_slashes,
                            redirect_defaults=self.redirect_defaults,
                            converters=self.converters, sort_parameters=self.sort_parameters,
                            sort_key=self.sort_key, host_matching=self.host_matching)
                compiled = (owner._matcher, owner._rules_by_endpoint)
                self._insert([copy.copy(rule) for rule in self._pending], *compiled,
                             owner=owner)
                owner._remap = True
                owner.update()  # sorted once, under the lock; read-only from then on
                _BUILT[key] = compiled
            self._compiled = _BUILT[key]
        self._remap = False
        return self._compiled
