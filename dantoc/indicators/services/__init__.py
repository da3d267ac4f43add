"""Write operations on the indicator system. Every function flushes, audits and never commits.

Bad input raises :class:`FieldError` with a localised message and the form field it
belongs to.
"""

from ...refusal import FieldError
from .catalogue import (
    create_catalogue_version,
    create_disaggregation,
    create_group,
    update_catalogue_version,
    update_group,
)
from .indicators import (
    create_indicator,
    create_rule,
    format_choices,
    parse_choices,
    rule_codes,
    rules_of,
    update_indicator,
    update_rule,
)
from .periods import (
    STANDARD_TYPES,
    create_period,
    generate_periods,
    standard_code,
    standard_period,
    update_period,
)
from .questionnaires import (
    add_item,
    add_section,
    create_form,
    move_item,
    move_section,
    new_version,
    publish,
    remove_item,
    remove_section,
    rename_section,
    update_form,
    update_version,
    version_of,
)

__all__ = [
    "STANDARD_TYPES", "FieldError", "add_item", "add_section", "create_catalogue_version",
    "create_disaggregation", "create_form", "create_group", "create_indicator", "create_period",
    "create_rule", "format_choices", "generate_periods", "move_item", "move_section",
    "new_version", "parse_choices", "publish", "remove_item", "remove_section",
    "rename_section", "rule_codes", "rules_of", "standard_code", "standard_period",
    "update_catalogue_version", "update_form", "update_group", "update_indicator",
    "update_period", "update_rule", "update_version", "version_of",
]
