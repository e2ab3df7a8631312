"""A hostile mail server on 127.0.0.1: a real socket server that trickles its banner or never answers."""

from __future__ import annotations

import socket
import threading
import time


class DripServer:
    """Accepts SMTP connections and sends `banner` one byte every `every` seconds (0 bytes if silent).

    `connections` counts accepted connections; `stop()` closes the listener and every connection.
    """

    def __init__(self, every: float = 2.0, silent: bool = False, banner: bytes = b"220 drip.example ESMTP\r\n") -> None:
        self.every = every
        self.silent = silent
        self.banner = banner
        self.connections = 0
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self.mailto = f"mailto://127.0.0.1:{self.port}?to=duty@example.com&from=yuqing@example.com&mode=insecure"
        self._thread = threading.Thread(target=self._accept, name="drip-smtp", daemon=True)

    def start(self) -> DripServer:
        self._thread.start()
        return self

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            self._conns.append(conn)
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        try:
            for i in range(len(self.banner)):
                if self._stop.wait(self.every):
                    return
                if not self.silent:
                    conn.sendall(self.banner[i:i + 1])
            while not self._stop.wait(0.5):
                pass  # the banner is out; now say nothing more, ever
        except OSError:
            pass  # the client gave up: what we want

    def stop(self) -> None:
        self._stop.set()
        try:
            self._listener.close()
        except OSError:
            pass
        for conn in self._conns:
            try:
                conn.close()
            except OSError:
                pass
        time.sleep(0.05)
