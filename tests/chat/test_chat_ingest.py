"""Grouped posting (chat.ingest): a message is acknowledged only if it was committed."""

import pytest
from django.db import DatabaseError, connection

from chat.ingest import _post_group
from chat.models import ChatMessage
from tests.chat.support import chatter, live_broadcast

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_connection_lost_mid_group_fails_the_whole_group_and_acks_nothing():
    broadcast = live_broadcast()
    requests = [
        {"broadcast": broadcast, "user": chatter(), "text": f"message {n}"} for n in range(3)
    ]
    inserts = []

    def drop_on_second_message(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("INSERT") and ChatMessage._meta.db_table in sql:
            inserts.append(sql)
            if len(inserts) == 2:
                connection.connection.close()  # the server went away
        return execute(sql, params, many, context)

    with pytest.raises(DatabaseError), connection.execute_wrapper(drop_on_second_message):
        _post_group(requests)
    connection.close()
    assert len(inserts) == 2
    assert ChatMessage.objects.count() == 0
