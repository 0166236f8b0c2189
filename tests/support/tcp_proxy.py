"""A loopback TCP forwarder that can be cut and restored: a real network outage in front of a
real server (nothing is mocked — the bytes go to the server untouched while it is up)."""

import asyncio
import contextlib
import threading
from collections.abc import Coroutine


class TcpProxy:
    """Listens on 127.0.0.1:<port>, forwards to 127.0.0.1:<target_port>."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        #: a silent proxy takes connections and data and never answers: a server that hangs, or packets dropped
        self.silent = False

    async def start(self) -> None:
        """Accept connections (on the same port as before, after a `cut`)."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Stop accepting and drop every open connection."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.silent:
            self._writers.add(writer)
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                while await reader.read(65536):
                    pass  # taken, never answered
            self._writers.discard(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers.update({writer, up_writer})

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                while data := await src.read(65536):
                    if self.silent:
                        continue  # dropped
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers.difference_update({writer, up_writer})


class ProxyThread:
    """A TcpProxy on an event loop of its own thread, for a client that blocks the test's loop at times (a VTN
    reads its store synchronously while it starts: a proxy on the same loop could not forward meanwhile)."""

    def __init__(self, target_port: int) -> None:
        self.proxy = TcpProxy(target_port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-proxy", daemon=True)

    @property
    def port(self) -> int:
        """The port it listens on (kept across a `cut` and `restore`)."""
        return self.proxy.port

    def _run(self, coroutine: Coroutine[object, object, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    def start(self) -> None:
        """Start the thread and accept connections."""
        self._thread.start()
        self._run(self.proxy.start())

    def cut(self) -> None:
        """Stop accepting and drop every open connection."""
        self._run(self.proxy.cut())

    def go_silent(self) -> None:
        """Keep every connection open and take new ones, but forward nothing either way from now on."""
        self._loop.call_soon_threadsafe(setattr, self.proxy, "silent", True)

    def restore(self) -> None:
        """Accept connections again, on the same port."""
        self._run(self.proxy.start())

    def stop(self) -> None:
        """Cut, and end the thread."""
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
