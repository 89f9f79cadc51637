import pytest
from django.conf import settings

from tests.conftest import DaphneServer


@pytest.fixture(scope="module")
def chat_servers(live_server_process, tmp_path_factory):
    """Two web processes sharing each room through Redis, as in production; without
    Redis (the embedded mode runs one web process) both entries are the same server."""
    if not settings.REDIS_URL:
        yield [live_server_process, live_server_process]
        return
    second = DaphneServer(tmp_path_factory.mktemp("daphne-chat"), name="web2")
    yield [live_server_process, second]
    second.stop()
