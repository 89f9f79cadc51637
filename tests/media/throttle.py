"""A weak uplink for browser tests: a TCP proxy in front of the test server whose
client-to-server direction passes at most `rate` bytes per second (None: unthrottled).

Chromium's own network throttling leaves WebSockets alone, so a page is loaded through
this proxy instead. Its client-side sockets have small receive buffers, so a throttled
sender's bytes back up in the sender (its kernel, its browser), as on a real weak link,
not inside the proxy."""

import asyncio
import socket
import threading

CHUNK = 4096


class ThrottlingProxy:
    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.rate = None
        self.loop = asyncio.new_event_loop()
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)  # before listen()
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        started = threading.Event()

        def run():
            asyncio.set_event_loop(self.loop)
            self.server = self.loop.run_until_complete(
                asyncio.start_server(self._handle, sock=listener, limit=CHUNK)
            )
            started.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, name="throttling-proxy", daemon=True)
        self.thread.start()
        started.wait(10)

    async def _handle(self, client_reader, client_writer):
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                "127.0.0.1", self.upstream_port
            )
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            self._pipe(client_reader, upstream_writer, throttled=True),
            self._pipe(upstream_reader, client_writer, throttled=False),
        )

    async def _pipe(self, reader, writer, *, throttled):
        try:
            while data := await reader.read(CHUNK if throttled else 65536):
                writer.write(data)
                await writer.drain()
                rate = self.rate
                if throttled and rate:
                    await asyncio.sleep(len(data) / rate)
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    def stop(self):
        async def shutdown():
            self.server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.loop.stop()

        self.loop.call_soon_threadsafe(lambda: self.loop.create_task(shutdown()))
        self.thread.join(10)
        self.loop.close()
