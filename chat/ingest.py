"""Posting messages in groups: one thread, one transaction per group.

Every socket's "send" would otherwise cost two hops through the thread pool and a
commit of its own; in a busy room those hops (and the GIL hand-overs while the event
loop is fanning out) made the write path, not the fan-out, the limit. Here sends queue
up, a single writer thread takes whatever has queued (up to MAX_GROUP), runs
chat.services.post_message for each inside one transaction (a savepoint each, so a
failed message doesn't touch the others) and commits once. Each sender's
ack still follows the commit of its own message, and the hub still gets every event
after commit (transaction.on_commit)."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

from django.db import DatabaseError, connection, transaction

from chat import services
from chat.protocol import ChatRefused

MAX_GROUP = 50
IDLE_CLOSE_SECONDS = 1.0


_ingests = {}


def get_ingest():
    loop = asyncio.get_running_loop()
    ingest = _ingests.get(loop)
    if ingest is None:
        ingest = _ingests[loop] = MessageIngest(loop)
    return ingest


def _post_group(requests):
    # This thread keeps its connection between groups (reconnecting costs more than a
    # group of messages); it only drops one that has gone bad.
    if connection.connection is not None and not connection.is_usable():
        connection.close()
    outcomes = [None] * len(requests)
    # Rooms in one fixed order (their rows are locked to number events): two processes
    # taking groups that share rooms then never wait on each other crosswise. The sort is
    # stable, so a room's messages keep their order.
    order = sorted(range(len(requests)), key=lambda i: requests[i]["broadcast"].pk)
    with transaction.atomic():
        for index in order:
            request = requests[index]
            try:
                with transaction.atomic():
                    try:
                        outcome = (True, services.post_message(**request))
                    except ChatRefused as refusal:
                        # Kept: what led to it (a rate-limit strike, an automatic
                        # timeout) is recorded on purpose.
                        outcome = (False, refusal)
            except Exception as exc:  # a bug: only this message is rolled back
                if connection.needs_rollback:
                    # The savepoint could not be rolled back (the connection dropped):
                    # the whole transaction is lost, so no message of the group may be
                    # acknowledged. The caller fails every one of them.
                    raise
                outcome = (False, exc)
            outcomes[index] = outcome
        if connection.needs_rollback:  # Django would roll back silently at the end
            raise DatabaseError("chat ingest: the group's transaction was rolled back")
    return outcomes


def _close_connection():
    connection.close()  # this thread's connection (looked up in the writer thread)


class MessageIngest:
    def __init__(self, loop):
        self.loop = loop
        self.queue = []
        self.running = False
        self.idle_handle = None
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chat-ingest")

    async def post(self, **request):
        """services.post_message(**request), grouped with whatever else is waiting."""
        future = self.loop.create_future()
        self.queue.append((request, future))
        if not self.running:
            self.running = True
            self.loop.create_task(self._drain())
        return await future

    async def _drain(self):
        try:
            while self.queue:
                group, self.queue = self.queue[:MAX_GROUP], self.queue[MAX_GROUP:]
                try:
                    outcomes = await self.loop.run_in_executor(
                        self.executor, _post_group, [request for request, _ in group]
                    )
                except Exception as exc:  # the whole group failed (e.g. database down)
                    outcomes = [(False, exc)] * len(group)
                for (_, future), (ok, value) in zip(group, outcomes, strict=True):
                    if future.done():
                        continue
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(value)
        finally:
            self.running = False
            self._close_when_idle()

    def _close_when_idle(self):
        """Give the connection back after a quiet second (don't pin one per process)."""
        if self.idle_handle is not None:
            self.idle_handle.cancel()
        self.idle_handle = self.loop.call_later(IDLE_CLOSE_SECONDS, self._close_if_idle)

    def _close_if_idle(self):
        self.idle_handle = None
        if not self.running and not self.queue:
            self.loop.run_in_executor(self.executor, _close_connection)
