"""Who may do what over HTTP: every route of the URLconf, each page, API and admin
action in the table against every principal, each allow and each deny asserted.

One test per row; each principal's request runs in a transaction rolled back after it,
so what one does (an account deleted, a broadcast ended) is gone before the next."""

from collections import Counter

import pytest
from django.db import transaction

from tests.permissions.admin_table import ADMIN_MODELS, admin_rows, registered_models
from tests.permissions.pages_table import PAGES
from tests.permissions.routes import every_route, excluded
from tests.permissions.world import PRINCIPALS

ROWS = PAGES + admin_rows()


def test_every_route_is_in_the_table_or_excluded_with_a_reason():
    routes, left_out = set(every_route()), set(excluded())
    covered = {row.route for row in ROWS}
    undecided = routes - covered - left_out
    assert not undecided, f"routes no one decided who may use: {sorted(undecided)}"
    assert not (covered | left_out) - routes, "the table names routes that do not exist"
    assert not covered & left_out, "a route is both in the table and excluded"


def test_every_model_in_the_admin_is_in_the_table():
    assert registered_models() == set(ADMIN_MODELS)


def test_every_row_is_named_once_and_decides_for_every_principal():
    labels = Counter(row.label for row in ROWS)
    assert [label for label, n in labels.items() if n > 1] == []
    assert all(list(row.expect) == list(PRINCIPALS) for row in ROWS)


def wrong_outcome(world, row, principal):
    """What `principal` got from `row` when it is not what the table says, else None."""
    expected = row.expect[principal]
    if row.prepare:
        row.prepare(world, principal)
    path, response = row.send(world, principal)
    where = f"{principal}: {row.method} {path}"
    got = expected.problem(response, world, path)
    if got is not None:
        return f"{where} expected {expected.describe(world, path)}, got {got}"
    if row.effect and row.effect(world, principal) != expected.allowed:
        done = "was done" if expected.allowed is False else "was not done"
        return f"{where} {done}, though the table {'allows' if expected.allowed else 'denies'} it"
    return None


@pytest.mark.django_db
@pytest.mark.parametrize("row", ROWS, ids=[row.label.replace(" ", "_") for row in ROWS])
def test_http(world, row):
    wrong = []
    for principal in PRINCIPALS:
        with transaction.atomic():
            wrong.append(wrong_outcome(world, row, principal))
            transaction.set_rollback(True)
    wrong = [line for line in wrong if line]
    assert not wrong, f"{row.label}:\n" + "\n".join(wrong)
