"""What the CLI prints to people: `serve` on a port in use fails in words before claiming to serve."""

from __future__ import annotations

import socket
import subprocess
import sys


def test_serve_on_a_port_in_use_fails_in_words_without_saying_serving_on(write_config):
    config = write_config()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "yuqing", "--config", str(config), "serve", "--bind",
                                 f"127.0.0.1:{port}"], capture_output=True, text=True, timeout=60)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "serving on" not in out
    assert f"cannot listen on 127.0.0.1:{port}" in out and "in use" in out.lower()
    assert "Traceback" not in out
