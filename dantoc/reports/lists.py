"""The page of a list of reports filtered by period, form and state: the unit reports
(:mod:`.views`) and the received reports (:mod:`dantoc.exchange.views`) are listed alike, as
they are queried alike (:func:`.queries.filtered`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import sqlalchemy as sa
from flask import current_app, request
from flask_login import current_user

from ..extensions import db
from ..submissions.labels import form_choices, period_choices
from ..web.forms import FilterForm
from ..web.htmx import render
from ..web.inputs import page_number


def filtered_page(folder: str, choices: tuple[list, list], listing: Callable[..., sa.Select],
                  labels: Mapping[str, str]) -> str:
    """This request's page of a list (``DANTOC_PAGE_SIZE`` rows), whole
    (``<folder>/index.html``) or as its HTMX rows (``<folder>/_rows.html``).

    :param choices: the periods and the forms to filter by (the list's ``filter_choices()``)
    :param listing: the list's query, given the user and the chosen period, form and state
    :param labels: state → label, in the order the state filter offers them
    """
    periods, forms = choices
    filters = FilterForm.read(request.args, period_choices(periods), form_choices(forms),
                              list(labels.items()))
    query = listing(current_user, filters.chosen("period"), filters.chosen("form"),
                    filters.chosen("state"))
    results = db.paginate(query, per_page=current_app.config["PAGE_SIZE"], page=page_number(),
                          error_out=False)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render(f"{folder}/index.html", f"{folder}/_rows.html", filters=filters,
                  results=results, args=args, labels=labels)
