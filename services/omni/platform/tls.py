"""The gRPC server's certificate, taken up again when its files change (cert-manager renews
it in the mounted Secret): new connections get the new certificate, without a restart."""

from __future__ import annotations

import logging
import os
import ssl
import threading
from pathlib import Path

import grpc

log = logging.getLogger(__name__)


class CertificateFiles:
    """A certificate and its key (PEM files), and the server configuration made of them.

    gRPC asks `fetch` before every new connection's handshake; it looks at the files'
    modification times, and reads them only when one changed. A pair that does not load
    together (a half-written renewal, a key that is not the certificate's) is not taken: the
    server keeps the certificate it has, and says so in the log.
    """

    def __init__(self, cert_file: str, key_file: str) -> None:
        self.cert_file = cert_file
        self.key_file = key_file
        self._lock = threading.Lock()  # gRPC calls fetch from its own threads
        self._seen = self._stamp()
        self.initial = self._configuration()  # at start, files that do not load stop the server

    def credentials(self) -> grpc.ServerCredentials:
        # (grpc-stubs types the fetcher's result without its None: "no change")
        return grpc.dynamic_ssl_server_credentials(self.initial, self.fetch)  # type: ignore[arg-type]

    def fetch(self) -> grpc.ServerCertificateConfiguration | None:
        """The new configuration if the files changed and load, else None (no change)."""
        with self._lock:
            try:
                stamp = self._stamp()
                if stamp == self._seen:
                    return None
                self._seen = stamp
                configuration = self._configuration()
            except (OSError, ssl.SSLError, ValueError) as exc:
                log.error("the new TLS certificate is not used (the old one is): %s", exc)
                return None
            log.info("TLS certificate read again from %s", self.cert_file)
            return configuration

    def _stamp(self) -> tuple[int, int]:
        return os.stat(self.cert_file).st_mtime_ns, os.stat(self.key_file).st_mtime_ns

    def _configuration(self) -> grpc.ServerCertificateConfiguration:
        cert, key = Path(self.cert_file).read_bytes(), Path(self.key_file).read_bytes()
        check = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        check.load_cert_chain(self.cert_file, self.key_file)  # they belong together
        return grpc.ssl_server_certificate_configuration([(key, cert)])
