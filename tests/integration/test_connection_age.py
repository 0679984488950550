"""A client's long-lived HTTP/2 connection pins it to one replica. Servers ask connections to
close after a maximum age (GOAWAY), so clients reconnect and their calls spread over replicas
added since. Shown through a TCP proxy that, like a Kubernetes Service, picks a backend for
each new connection (the newest replica, as a fresh pod takes new connections)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator

from omni.platform.natsserver import EmbeddedNats
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc
from tests.helpers.checks import eventually
from tests.helpers.running import authorized, running_stock


class Proxy:
    """Forwards each connection to the newest backend, and counts connections per backend."""

    def __init__(self, backend: int) -> None:
        self.backends = [backend]
        self.connections: Counter[int] = Counter()
        self._pipes: set[asyncio.Task[None]] = set()

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[int]:
        server = await asyncio.start_server(self._connected, "127.0.0.1", 0)
        try:
            yield server.sockets[0].getsockname()[1]
        finally:
            server.close()
            for pipe in self._pipes:
                pipe.cancel()
            await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        backend = self.backends[-1]
        self.connections[backend] += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", backend)
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            pipe = asyncio.create_task(self._pipe(source, sink))
            self._pipes.add(pipe)
            pipe.add_done_callback(self._pipes.discard)

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            sink.close()


async def test_calls_from_one_client_reach_a_replica_started_later(
    database_url: str, nats_server: EmbeddedNats
) -> None:
    aged = {"grpc_max_connection_age_seconds": 1.0}
    async with running_stock(database_url, nats_server, **aged) as first:
        proxy = Proxy(first.app.port)
        async with proxy.serving() as port, authorized(f"127.0.0.1:{port}") as channel:
            stub = stock_pb2_grpc.StockServiceStub(channel)
            await stub.ListLocations(pb.ListLocationsRequest())
            assert proxy.connections == {first.app.port: 1}
            async with running_stock(database_url, nats_server, **aged) as second:
                proxy.backends.append(second.app.port)

                async def reached_the_new_replica() -> bool:
                    await stub.ListLocations(pb.ListLocationsRequest())  # each call answered
                    return proxy.connections[second.app.port] > 0

                await eventually(reached_the_new_replica, within=10)
                # And it keeps being served there: the client did not stay pinned.
                await stub.ListLocations(pb.ListLocationsRequest())
