import pytest
from django.apps import apps
from django.core.management import call_command

from tests.permissions.world import MODERATORS_MIGRATION, build_world


@pytest.fixture(scope="package")
def world(django_db_setup, django_db_blocker):
    """Built once and committed, for the HTTP rows (each runs in a transaction rolled
    back after it) and the socket rows (the Daphne process reads it). Emptied after, as a
    test that commits leaves the database, with the migration's group made again."""
    with django_db_blocker.unblock():
        yield build_world()
        call_command("flush", interactive=False, verbosity=0)
        MODERATORS_MIGRATION.create_moderators_group(apps, None)
