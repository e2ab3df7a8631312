"""What a scrapyd job is told: the one source's settings and where the store is, as plain data.

A node has no config file of ours, so a job gets the sections a crawl reads (locality, crawl, the
source) back in TOML's own shape, as JSON, and builds its Settings with the same loader and checks
as `yuqing check`. Only values that differ from the defaults travel, so a node whose yuqing is a
little older still reads what it knows. Nothing else of the config does: no mail passwords, no web
secrets. The store travels as a URL (`sqlite:////abs/path.db` or `postgresql://...`, the latter
without its password): a job writes its posts there itself.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from yuqing import settings as settings_mod
from yuqing.errors import ConfigError
from yuqing.settings import Settings, SourceConfig

SQLITE = "sqlite:///"
NODE_ONLY = ("engine", "scrapyd")  # a job crawls where it is: its own engine is local


def store_url(settings: Settings) -> str:
    """The store's URL for a node: the SQLite file's, absolute, or the server's without its password.

    A password sent with a job would show in the node's process list and job list; a node keeps
    its own (~/.pgpass or PGPASSWORD where scrapyd runs)."""
    target = settings.db_path  # a Path, or (with a PostgreSQL store) an object carrying .url
    url = getattr(target, "url", None)
    if not isinstance(url, str):
        return f"{SQLITE}{Path(target).resolve()}"
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname or ""
    netloc = f"{parts.username or ''}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def store_section(url: str) -> dict[str, Any]:
    """`[store]` for a job, from the URL it was given (`path` for SQLite: every yuqing reads that)."""
    if url.startswith(SQLITE):
        path = url[len(SQLITE):]
        if not path:
            raise ConfigError("store.url", f"no file in {url!r}")
        return {"path": path}
    if "url" in {f.name for f in dataclasses.fields(settings_mod.Store)}:
        return {"url": url}
    scheme = url.split(":", 1)[0]
    raise ConfigError("store.url", f"this yuqing can write only SQLite stores, not {scheme!r} ones ({url.split('@')[-1]})")


def _unwrap(tp: Any) -> Any:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return next(a for a in typing.get_args(tp) if a is not type(None))
    return tp


def _raw(tp: Any, value: Any) -> Any:
    tp = _unwrap(tp)
    if tp is settings_mod.Duration:
        return f"{float(value):f}s"  # a bare number would be refused for `every`
    if dataclasses.is_dataclass(value):
        return to_raw(value)
    if isinstance(value, tuple):
        args = typing.get_args(tp)
        return [_raw(args[0] if args else Any, v) for v in value]
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    return value


def to_raw(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """A settings dataclass back in the shape its TOML table had (values that differ from the defaults)."""
    hints = typing.get_type_hints(type(obj))
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        if f.metadata.get("internal") or f.name in skip:
            continue
        value = getattr(obj, f.name)
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = dataclasses.MISSING
        if value is None or value == default:
            continue
        out[f.name] = _raw(hints[f.name], value)
    return out


def job_config(settings: Settings, source: SourceConfig) -> dict[str, Any]:
    """The settings a job needs to crawl `source`, as TOML-shaped data."""
    raw: dict[str, Any] = {
        "locality": to_raw(settings.locality),
        "sources": [to_raw(source)],
    }
    crawl = to_raw(settings.crawl, skip=NODE_ONLY)
    if crawl:
        raw["crawl"] = crawl
    return raw


def encode(settings: Settings, source: SourceConfig) -> str:
    return json.dumps(job_config(settings, source), ensure_ascii=False, separators=(",", ":"))


def decode(config: str, store: str) -> Settings:
    """A job's Settings from what it was told; ConfigError (with the key path) for anything off."""
    try:
        raw = json.loads(config)
    except (TypeError, ValueError) as exc:
        raise ConfigError("", f"the job's config is not JSON: {exc}") from None
    if not isinstance(raw, dict) or len(raw.get("sources") or []) != 1:
        raise ConfigError("sources", "a job crawls exactly one source")
    raw["store"] = store_section(store)
    return settings_mod.from_dict(raw)
