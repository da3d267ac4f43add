"""The test factories, one package: ``from tests.factories import make_user, signed_in``.

- :mod:`.users`: ``make_user``, ``signed_in(client, user)`` (the session keys of a signed-in
  user, no sign-in form), ``browser``/``officer`` (a new client signed in), ``unit(code)``;
- :mod:`.places`: levels, unit types, the commune 03388 and sample villages;
- :mod:`.indicators`: catalogue versions, groups, indicators and forms via the services;
- :mod:`.submissions`: a published questionnaire, periods, the entry form's answers and POST,
  the ``entry`` setup (a signed-in village head with an open questionnaire);
- :mod:`.pages`: a page read by element id, the htmx headers.

Everything is re-exported here, so ``from tests.factories import X`` finds any of them (the
old modules ``tests.factories_submissions`` and ``tests.indicator_factories`` re-export too).
"""

from tests.factories.indicators import (
    make_catalogue,
    make_form,
    make_group,
    make_household_catalogue,
    make_indicator,
)
from tests.factories.pages import BOOSTED, HX, Html, html_of
from tests.factories.places import REFORM, ensure_reference, get_or_add, level, make_village
from tests.factories.submissions import (
    INDICATORS,
    RULES,
    Setup,
    counts,
    entry_fixture,
    entry_url,
    field_name,
    indicator_id,
    make_period,
    make_questionnaire,
    make_village_head,
    post,
    reload_report,
    review_actions,
    submit_report,
    typical_answers,
)
from tests.factories.users import (
    _HASH,
    PASSWORD,
    browser,
    fresh_client,
    make_officer,
    make_user,
    officer,
    sign_in_as,
    signed_in,
    unit,
)

__all__ = [
    "BOOSTED", "HX", "INDICATORS", "PASSWORD", "REFORM", "RULES", "_HASH", "Html", "Setup",
    "browser", "counts", "ensure_reference", "entry_fixture", "entry_url", "field_name",
    "fresh_client", "get_or_add", "html_of", "indicator_id", "level", "make_catalogue",
    "make_form", "make_group", "make_household_catalogue", "make_indicator", "make_officer",
    "make_period", "make_questionnaire", "make_user", "make_village", "make_village_head",
    "officer", "post", "reload_report", "review_actions", "sign_in_as", "signed_in",
    "submit_report", "typical_answers", "unit",
]
