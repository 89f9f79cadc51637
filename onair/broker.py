"""The embedded Celery broker: kombu's SQLAlchemy transport on a SQLite file.

kombu passes every transport option to SQLAlchemy's create_engine, so the polling
interval cannot go through `broker_transport_options`; this subclass sets it instead.
A tenth of a second keeps a task's pick-up delay well under the go-live post budget.
"""

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport.sqlalchemy import Transport

ALIAS = "sqlite-broker"


class SQLiteBrokerTransport(Transport):
    polling_interval = 0.1


TRANSPORT_ALIASES[ALIAS] = "onair.broker:SQLiteBrokerTransport"
