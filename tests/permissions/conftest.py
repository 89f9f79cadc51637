import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.backends.base.creation import TEST_DATABASE_PREFIX

from tests.permissions.world import MODERATORS_MIGRATION, build_world


@pytest.fixture(scope="package")
def world(django_db_setup, django_db_blocker):
    """Built once and committed, for the HTTP rows (each in a transaction rolled back
    after it) and the socket rows (the Daphne process reads it). Emptied after, as a test
    that commits leaves the database, with the migration's group made again."""
    # pytest-django makes the test database only when a selected test is marked for it
    # (the socket rows cannot be: they must not hold a transaction open).
    database = connection.settings_dict
    made = database["NAME"] == database["TEST"].get("NAME") or str(database["NAME"]).startswith(
        TEST_DATABASE_PREFIX
    )
    if not made:
        pytest.fail("no test database: select a test marked django_db too (or the package)")
    with django_db_blocker.unblock():
        yield build_world()
        call_command("flush", interactive=False, verbosity=0)
        MODERATORS_MIGRATION.create_moderators_group(apps, None)
