"""Where a store lives: `[store] url` read into a SQLite path or a PostgreSQL address.

`sqlite:///data/yuqing.db` is a file relative to the config's folder (`sqlite:////abs/path` is
absolute, as in SQLAlchemy); `postgresql://user@host:5432/db` (or `postgres://`) is a server.
A PostgreSQL address is carried as a `StoreURL`, not a str or a Path: its str() hides the password
(so it can be logged and printed), and passing it where a file path is expected fails loudly
instead of creating a file named after the URL.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from yuqing.errors import ConfigError

logger = logging.getLogger(__name__)

SCHEMES = ("sqlite", "postgresql", "postgres")


class StoreURL:
    """A PostgreSQL store's address; `.url` is the full conninfo, str() the printable one."""

    def __init__(self, url: str) -> None:
        self.url = url

    @property
    def redacted(self) -> str:
        parts = urlsplit(self.url)
        if parts.password is None:
            return self.url
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urlunsplit((parts.scheme, f"{parts.username or ''}:***@{host}", parts.path, parts.query, ""))

    def exists(self) -> bool:
        """A server store always 'exists': whether it answers is found out when it is opened."""
        return True

    def __str__(self) -> str:
        return self.redacted

    def __repr__(self) -> str:
        return f"StoreURL({self.redacted!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StoreURL) and other.url == self.url

    def __hash__(self) -> int:
        return hash(self.url)


def is_postgres(target: object) -> bool:
    """True for a StoreURL or a postgresql:// string (what `Store(...)` accepts besides a path)."""
    if isinstance(target, StoreURL):
        return True
    return isinstance(target, str) and target.split("://", 1)[0] in ("postgresql", "postgres") and "://" in target


def parse(url: str, base_dir: str | Path = ".", key: str = "store.url") -> Path | StoreURL:
    """`[store] url` -> a Path (SQLite) or a StoreURL (PostgreSQL); ConfigError naming `key` if bad."""
    if not isinstance(url, str) or "://" not in url:
        raise ConfigError(key, f"expected sqlite:///PATH or postgresql://USER@HOST/DB, got {url!r}")
    scheme, rest = url.split("://", 1)
    if scheme not in SCHEMES:
        raise ConfigError(key, f"unknown store scheme {scheme!r} (use sqlite:///PATH or postgresql://...), got {url!r}")
    if scheme == "sqlite":
        if not rest.startswith("/") or rest in ("/", ""):
            raise ConfigError(key, f"a SQLite url is sqlite:///PATH (three slashes, then the file), got {url!r}")
        path = Path(rest[1:]).expanduser()
        if str(path).endswith("/") or not path.name:
            raise ConfigError(key, f"a SQLite url must name a file, got {url!r}")
        return path if path.is_absolute() else Path(base_dir) / path
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError on a bad port
    except ValueError as exc:
        raise ConfigError(key, f"not a valid PostgreSQL url ({exc}): {StoreURL(url).redacted!r}") from None
    if port == 0:
        raise ConfigError(key, f"port 0 is not a valid PostgreSQL port: {StoreURL(url).redacted!r}")
    if not parts.hostname and "host=" not in parts.query:
        raise ConfigError(key, f"a PostgreSQL url names its server, e.g. postgresql://yuqing@127.0.0.1/yuqing, "
                               f"got {StoreURL(url).redacted!r}")
    if not parts.path.strip("/"):
        raise ConfigError(key, f"a PostgreSQL url names its database after the server (…/yuqing), "
                               f"got {StoreURL(url).redacted!r}")
    try:
        from psycopg.conninfo import conninfo_to_dict

        conninfo_to_dict(url)
    except ImportError:  # pragma: no cover - psycopg is a dependency
        raise ConfigError(key, "PostgreSQL needs the psycopg package: pip install 'psycopg[binary]'") from None
    except Exception as exc:  # psycopg.ProgrammingError: libpq's own words about the url
        raise ConfigError(key, f"not a valid PostgreSQL url ({str(exc).strip()}): {StoreURL(url).redacted!r}") from None
    return StoreURL(url)
