"""Who may do what over HTTP: every route of the URLconf, each page, API and admin
action in the table against every principal, each allow and each deny asserted."""

from collections import Counter

import pytest
from django.db import transaction

from tests.permissions.admin_table import ADMIN_MODELS, admin_rows, registered_models
from tests.permissions.pages_table import PAGES
from tests.permissions.routes import EXCLUDED, every_route
from tests.permissions.world import PRINCIPALS

ROWS = PAGES + admin_rows()


def test_every_route_is_in_the_table_or_excluded_with_a_reason():
    routes = set(every_route())
    covered = {row.route for row in ROWS}
    undecided = routes - covered - set(EXCLUDED)
    assert not undecided, f"routes no one decided who may use: {sorted(undecided)}"
    assert not (covered | set(EXCLUDED)) - routes, "the table names routes that do not exist"
    assert not covered & set(EXCLUDED), "a route is both in the table and excluded"


def test_every_model_in_the_admin_is_in_the_table():
    assert registered_models() <= set(ADMIN_MODELS)


def test_every_row_is_named_once_and_decides_for_every_principal():
    labels = Counter(row.label for row in ROWS)
    assert [label for label, n in labels.items() if n > 1] == []
    assert all(list(row.expect) == list(PRINCIPALS) for row in ROWS)


@pytest.mark.parametrize(
    ("row", "principal"),
    [(row, principal) for row in ROWS for principal in PRINCIPALS],
    ids=[f"{row.label}-{principal}".replace(" ", "_") for row in ROWS for principal in PRINCIPALS],
)
def test_http(world, row, principal):
    """Each request in a transaction rolled back after it: what one row does (an account
    deleted, a broadcast ended) is gone before the next."""
    with transaction.atomic():
        check(world, row, principal)
        transaction.set_rollback(True)


def check(world, row, principal):
    expected = row.expect[principal]
    if row.prepare:
        row.prepare(world, principal)
    path, response = row.send(world, principal)
    got = expected.problem(response, world, path)
    assert got is None, (
        f"{principal}: {row.label} ({row.method} {path}) "
        f"expected {expected.describe(world, path)}, got {got}"
    )
    if row.effect:
        happened = row.effect(world, principal)
        assert happened == expected.allowed, (
            f"{principal}: {row.label} ({row.method} {path}) "
            f"{'happened' if happened else 'did not happen'}, though it is "
            f"{'allowed' if expected.allowed else 'denied'}"
        )
