"""A throwaway PostgreSQL cluster on 127.0.0.1 for the tests: initdb + pg_ctl in a temporary folder.

PostgreSQL refuses to run as root, so as root the cluster runs as the user `yuqingpg` (created if
missing, as .ci/run does). Each test gets its own schema in the one cluster (a search_path in the
url), which is much faster than a database per test.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

PG_USER = "yuqingpg"


def pg_bin() -> Path | None:
    """The folder with initdb and pg_ctl (Debian keeps them out of PATH), or None."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", PG_USER, "--", *cmd]


def ensure_user() -> str | None:
    """As root, make sure the unprivileged cluster owner exists; returns why not, or None."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(PG_USER)
        return None
    except KeyError:
        pass
    done = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_USER],
                          capture_output=True, text=True)
    return None if done.returncode == 0 else f"cannot create user {PG_USER}: {done.stderr.strip()}"


class Cluster:
    def __init__(self) -> None:
        self.bin = pg_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="yuqing-pg-"))
        self.port = _free_port()
        self.user = PG_USER if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name

    def start(self) -> Cluster:
        assert self.bin is not None
        if os.geteuid() == 0:
            shutil.chown(self.dir, PG_USER, PG_USER)
        data = self.dir / "data"
        subprocess.run(_as_user([str(self.bin / "initdb"), "-D", str(data), "-U", self.user, "-A", "trust",
                                 "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]),
                       check=True, capture_output=True)
        opts = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.dir} "
                f"-c fsync=off -c full_page_writes=off -c max_connections=60 -c shared_buffers=64MB")
        subprocess.run(_as_user([str(self.bin / "pg_ctl"), "-D", str(data), "-o", opts, "-l",
                                 str(self.dir / "log"), "-w", "-t", "60", "start"]),
                       check=True, capture_output=True)
        return self

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"

    def schema_url(self) -> str:
        """A fresh, empty schema of its own: the url of an empty store."""
        return fresh_schema_url(self.url)

    def stop(self) -> None:
        if self.bin is not None and (self.dir / "data" / "postmaster.pid").exists():
            subprocess.run(_as_user([str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate",
                                     "-w", "stop"]), capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def fresh_schema_url(server: str | None = None) -> str:
    """A new empty schema on `server` (default $YUQING_TEST_STORE), as a store url."""
    import psycopg

    server = server or os.environ["YUQING_TEST_STORE"]
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    sep = "&" if "?" in server else "?"
    return f"{server}{sep}options=-csearch_path%3D{name}"


def why_not() -> str | None:
    """Why a cluster cannot be started here (the skip reason), or None."""
    if pg_bin() is None:
        return "PostgreSQL's initdb/pg_ctl are not installed (apt-get install postgresql)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: cannot start PostgreSQL as an unprivileged user"
    return ensure_user()


def wait_gone(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


def main() -> None:
    """`python -m tests.store_pg.cluster start|stop DIR`: a cluster for a whole second test run (.ci/run)."""
    import sys

    if len(sys.argv) >= 2 and sys.argv[1] == "start":
        reason = why_not()
        if reason:
            print(f"skip: {reason}", file=sys.stderr)
            raise SystemExit(3)
        cluster = Cluster().start()
        print(f"{cluster.url} {cluster.dir}")
    elif len(sys.argv) == 3 and sys.argv[1] == "stop":
        cluster = Cluster.__new__(Cluster)
        cluster.bin, cluster.dir = pg_bin(), Path(sys.argv[2])
        cluster.stop()
    else:
        print("usage: python -m tests.store_pg.cluster start | stop DIR", file=sys.stderr)
        raise SystemExit(2)


if __name__ == "__main__":
    main()
