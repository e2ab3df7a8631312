"""Configuration: a TOML file read into frozen dataclasses, checked before anything starts.

Settings are declared as data: each section is a dataclass whose fields carry their type, default
and a one-line help (the `help` metadata), and one generic loader walks them. Any string value may
be written `{env = "NAME"}` to read a secret from the environment instead of the file.
Durations are strings like "90s", "15m", "2h", "7d" (or plain seconds); sizes like "20MB".
An unknown key, a wrong type, a bad duration or a missing required value raises ConfigError with
the key path; the CLI turns it into exit status 2.
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from yuqing.errors import ConfigError
from yuqing.models import SOURCE_TYPES

Duration = typing.NewType("Duration", float)  # seconds
Size = typing.NewType("Size", int)  # bytes

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d|w)?\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1, None: 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|k|mb|m|gb|g)?\s*$", re.I)
_SIZE_UNITS = {None: 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2, "g": 1024**3, "gb": 1024**3}


def parse_duration(value: Any, path: str = "") -> float:
    """'15m' -> 900.0; numbers are seconds."""
    if isinstance(value, bool):
        raise ConfigError(path, f"expected a duration like '15m', got {value!r}")
    if isinstance(value, (int, float)):
        if value and path.rsplit(".", 1)[-1].endswith("every"):
            # `every = 15` read as 15 seconds hammered sites that meant minutes: say the unit
            raise ConfigError(path, f"give a unit: '{value}s', '{value}m' or '{value}h', not a bare {value!r}")
        if value < 0:
            raise ConfigError(path, f"a duration cannot be negative, got {value!r}")
        return float(value)
    match = _DURATION.match(str(value)) if isinstance(value, str) else None
    if not match:
        raise ConfigError(path, f"expected a duration like '90s', '15m', '2h' or '7d', got {value!r}")
    return float(match.group(1)) * _DURATION_UNITS[match.group(2)]


def parse_size(value: Any, path: str = "") -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    match = _SIZE.match(value) if isinstance(value, str) else None
    if not match:
        raise ConfigError(path, f"expected a size like '20MB', got {value!r}")
    unit = match.group(2).lower() if match.group(2) else None
    return int(float(match.group(1)) * _SIZE_UNITS[unit])


def _help(text: str, **kw: Any) -> Any:
    return field(metadata={"help": text}, **kw)


@dataclass(frozen=True)
class Locality:
    name: str = _help("the place watched, e.g. 芦山县 (required)")
    aliases: tuple[str, ...] = _help("other names that mark a post as relevant", default=())
    exclude: tuple[str, ...] = _help("terms that contain a name but mean elsewhere (庐山 for 芦山)", default=())

    @property
    def terms(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Store:
    path: str = _help("SQLite file, relative to the config file", default="data/yuqing.db")
    # -- #12: the backend, chosen by url (empty: the SQLite file at `path`) --
    url: str = _help("sqlite:///PATH or postgresql://USER@HOST:PORT/DB (empty: the file at path); "
                     "a password via {env = \"NAME\"}", default="")
    retention: Duration = _help("delete posts older than this (0 keeps all)", default=Duration(0))


@dataclass(frozen=True)
class Crawl:
    user_agent: str = _help("User-Agent sent to every site", default="yuqing/0.1 (+public-opinion monitor; polite crawler)")
    obey_robots: bool = _help("obey robots.txt", default=True)
    delay: Duration = _help("pause between requests to one site", default=Duration(2.0))
    autothrottle: bool = _help("adapt the delay to the site's latency (Scrapy AutoThrottle)", default=True)
    concurrency: int = _help("parallel requests per site", default=2)
    timeout: Duration = _help("a whole source run is killed after this", default=Duration(300.0))
    request_timeout: Duration = _help("one HTTP request gives up after this", default=Duration(30.0))
    max_pages: int = _help("default page cap per run for paginated sources", default=5)
    max_body: Size = _help("bodies larger than this are refused", default=Size(10 * 1024**2))
    retries: int = _help("retries of one request on 5xx or timeout", default=1)
    # -- crawl engines (yuqing/crawlers/engines/)
    engine: str = _help("where runs happen: local (a child process each) or scrapyd (jobs on the [crawl] scrapyd nodes)",
                        default="local")
    scrapyd: tuple[str, ...] = _help("scrapyd nodes for engine = \"scrapyd\", e.g. [\"http://127.0.0.1:6800\"]", default=())


@dataclass(frozen=True)
class SourceConfig:
    name: str = _help("unique name, used in `yuqing crawl NAME`")
    type: str = _help("feed | html | json | weibo | tieba | liuyan | hotlist")
    url: str = _help("start URL (feed, html, json); presets have defaults", default="")
    every: Duration = _help("crawl interval", default=Duration(900.0))
    cron: str = _help("cron expression instead of `every`, e.g. '*/10 * * * *'", default="")
    enabled: bool = _help("set false to keep the source but not crawl it", default=True)
    weight: float = _help("how much this source counts in alert levels and event heat", default=1.0)
    delay: Duration | None = _help("per-source request delay (default: [crawl] delay)", default=None)
    timeout: Duration | None = _help("per-source run timeout (default: [crawl] timeout)", default=None)
    max_pages: int | None = _help("page cap for this source", default=None)
    cookies: str = _help("Cookie header for sites that need a login; use {env = \"NAME\"}", default="")
    proxy: str = _help("HTTP proxy URL for this source only", default="")
    headers: dict[str, str] = _help("extra request headers", default_factory=dict)
    match_all: bool = _help("keep every post, even without a locality name (local sources)", default=False)
    refresh: Duration = _help("re-visit the posts first seen this recently on each run, e.g. '48h' (0: never)",
                              default=Duration(0))
    title: str = _help("what people see in emails and pages, e.g. 清溪问政 (default: the name)", default="")
    # html
    selector_type: str = _help("html: css | xpath", default="css")
    item: str = _help("html: selector of one post on the list page", default="")
    fields: dict[str, str] = _help("html/json: field -> selector or path (title, text, url, time, author)", default_factory=dict)
    detail: dict[str, str] = _help("html: field -> selector on the detail page (text, time, author)", default_factory=dict)
    next_page: str = _help("html: selector of the next-page link; json: page parameter name", default="")
    # json
    list_path: str = _help("json: path to the list of posts, e.g. data.items", default="")
    method: str = _help("json: GET or POST", default="GET")
    body: str = _help("json: request body template for POST ({page} is replaced)", default="")
    # presets
    keyword: str = _help("weibo/tieba: search keyword (default: the locality name)", default="")
    forum: str = _help("tieba: forum (吧) name to list", default="")
    fid: str = _help("liuyan: board id", default="")


# Keys that only make sense for some source types; anything else is rejected for clarity.
_TYPE_KEYS: dict[str, set[str]] = {
    "feed": set(),
    "html": {"selector_type", "item", "fields", "detail", "next_page"},
    "json": {"fields", "next_page", "list_path", "method", "body"},
    "weibo": {"keyword"},
    "tieba": {"keyword", "forum"},
    "liuyan": {"fid"},
    "hotlist": {"list_path", "fields"},
}
HOTLIST_EVERY = 600.0  # a hot list changes by the minute: polled every 10 minutes unless `every` says otherwise
_COMMON_SOURCE_KEYS = {
    "name", "title", "type", "url", "every", "cron", "enabled", "weight", "delay", "timeout",
    "max_pages", "cookies", "proxy", "headers", "match_all", "refresh",
}


@dataclass(frozen=True)
class AnalysisConfig:
    sentiment: str = _help("model (the shipped domain model) | snownlp", default="model")
    model: str = _help("path of a trained model file (default: the one shipped)", default="")
    topics: str = _help("topic taxonomy TOML (default: the shipped config/topics.toml)", default="")
    userdict: str = _help("extra jieba words, one per line", default="")
    stopwords: str = _help("stopwords, one per line", default="")
    keywords: int = _help("keywords kept per post", default=8)
    batch: int = _help("posts analysed per transaction", default=500)
    event_window: Duration = _help("a post joins an event seen within this time", default=Duration(3 * 86400))
    event_similarity: float = _help("minimum similarity to join an event (0..1)", default=0.5)
    negative_threshold: float = _help("negative_prob at or above which a post counts as negative", default=0.5)


@dataclass(frozen=True)
class ChannelConfig:
    name: str = _help("a stable name messages are addressed to, e.g. duty-email ([[alerts.channels]])")
    url: str = _help("its apprise URL (mailto://, mailtos://, dingtalk://, json://...); may change while messages wait")
    broadcast: bool = _help("gets every alert and digest; false: only what a [[units]] notify or [cases] escalate_to"
                            " naming it sends", default=True)


@dataclass(frozen=True)
class AlertsConfig:
    windows: tuple[Duration, ...] = _help("sliding windows checked for spikes", default=(Duration(3600.0), Duration(6 * 3600.0)))
    baseline_weeks: int = _help("weeks of history for the time-of-week baseline", default=4)
    min_count: int = _help("never alert on fewer negative posts than this in a window", default=5)
    p_value: float = _help("raise when the Poisson tail probability of the count is below this", default=0.001)
    min_share: float = _help("...and the negative share is at least this", default=0.3)
    resolve_ratio: float = _help("resolve when the count falls to this multiple of the baseline", default=1.5)
    cooldown: Duration = _help("after a resolve, the same scope stays quiet this long", default=Duration(6 * 3600.0))
    source_weights: dict[str, float] = _help("source type or name -> weight in the level", default_factory=dict)
    source_failures: int = _help("alert when a source fails this many runs in a row", default=3)
    source_silence: float = _help("alert when a source yields nothing for this many times its usual gap", default=8.0)
    notify: tuple[str, ...] = _help("apprise URLs (mailto://, dingtalk://, wecom://, feishu://...)", default=())
    outbox: str = _help("folder for .eml files when notify is empty", default="data/outbox")
    retry: Duration = _help("first retry delay of a failed delivery; doubles each time", default=Duration(60.0))
    max_attempts: int = _help("give up a delivery after this many attempts", default=8)
    channels: tuple[ChannelConfig, ...] = _help("named channels ([[alerts.channels]] name, url), besides notify", default=())
    send_timeout: Duration = _help("one delivery attempt (connect + banner + send) gives up after this", default=Duration(60.0))
    base_url: str = _help("link prefix for posts and alerts in messages (the web app)", default="http://127.0.0.1:8080")
    min_baseline: float = _help("the baseline never counts as fewer negative posts per window than this", default=1.0)
    level_scores: tuple[float, ...] = _help("spike score at which yellow, orange, red begin (3 rising numbers)", default=(3.0, 4.0, 5.0))
    top_posts: int = _help("posts quoted in an alert's explanation", default=5)
    watch_terms: tuple[str, ...] = _help("a post containing one of these opens a 待研判 case at once", default=())
    hotlist_level: str = _help("level of a locality entry on a hot list (red in its top 10)", default="orange")
    spread_new: int = _help("spread alert: at least this many new reposts+comments in an hour", default=500)
    spread_factor: float = _help("...or grown this many times in an hour", default=10.0)
    spread_base: int = _help("...from at least this many", default=100)


@dataclass(frozen=True)
class UnitConfig:
    name: str = _help("a unit cases are assigned to, e.g. 县水务局")
    notify: tuple[str, ...] = _help("apprise URLs or [[alerts.channels]] names of the unit (empty: [alerts] notify)",
                                    default=())


@dataclass(frozen=True)
class DeadlineConfig:
    respond: Duration = _help("first public response due this long after assignment")
    close: Duration = _help("办结 due this long after assignment")


@dataclass(frozen=True)
class CasesConfig:
    escalate_to: tuple[str, ...] = _help("apprise URLs or [[alerts.channels]] names told of every overdue case"
                                         " (empty: every [alerts] channel)", default=())
    deadlines: dict[str, DeadlineConfig] = _help(
        "per level (红/橙/黄/蓝): respond and close durations; unset levels keep the defaults"
        " 红 2h/24h, 橙 4h/48h, 黄 12h/3d, 蓝 24h/7d", default_factory=dict)


@dataclass(frozen=True)
class LiuyanConfig:
    overdue: Duration = _help("a 留言 unanswered this long raises one blue alert", default=Duration(7 * 86400.0))


@dataclass(frozen=True)
class DigestConfig:
    at: str = _help("time of day the digest is built, HH:MM", default="08:00")
    timezone: str = _help("timezone of days and schedules", default="Asia/Shanghai")
    to: tuple[str, ...] = _help("email addresses the digest goes to", default=())
    pages: str = _help("folder where digest pages are written", default="data/digests")
    top: int = _help("items per list in the digest", default=10)


@dataclass(frozen=True)
class ReportsConfig:
    to: tuple[str, ...] = _help("email addresses the weekly and monthly reports go to (files attached)", default=())
    formats: tuple[str, ...] = _help("files of a mailed report: any of html, docx, pdf, xlsx",
                                     default=("docx", "pdf", "xlsx"))
    weekly: bool = _help("build the 周报 every Monday at [digest] at", default=True)
    monthly: bool = _help("build the 月报 on the 1st at [digest] at", default=True)
    respond_within: Duration = _help("an alert not acknowledged within this is counted overdue", default=Duration(86400.0))


@dataclass(frozen=True)
class WebConfig:
    bind: str = _help("host:port the web app listens on", default="127.0.0.1:8080")
    open_read: bool = _help("allow browsing without login", default=True)
    secret: str = _help("session signing key; use {env = \"NAME\"} (default: generated per store)", default="")
    allowed_hosts: tuple[str, ...] = _help("Host header names served (default: the bind address, localhost, 127.0.0.1)",
                                           default=())
    secure_cookies: bool = _help("mark cookies Secure (set when users reach the app over HTTPS)", default=False)


@dataclass(frozen=True)
class DaemonConfig:
    log_file: str = _help("rotating log file (empty: log to the console only)", default="")
    log_level: str = _help("DEBUG | INFO | WARNING", default="INFO")
    housekeeping_at: str = _help("time of day for retention and VACUUM, HH:MM", default="03:30")
    misfire_grace: Duration = _help("a job late by less than this still runs", default=Duration(300.0))
    crawl_workers: int = _help("crawls running at the same time, each in its own process", default=2)
    pipeline_every: Duration = _help("also run analysis + detection this often (besides after each crawl)", default=Duration(300.0))
    deliver_every: Duration = _help("retry due deliveries this often", default=Duration(60.0))
    vacuum_every: Duration = _help("VACUUM the store at housekeeping at most this often (0: never)", default=Duration(7 * 86400.0))


@dataclass(frozen=True)
class Settings:
    locality: Locality = _help("the place watched")
    store: Store = _help("the SQLite store", default_factory=Store)
    crawl: Crawl = _help("crawl defaults for every source", default_factory=Crawl)
    sources: tuple[SourceConfig, ...] = _help("the watched sources", default=())
    analysis: AnalysisConfig = _help("text analysis", default_factory=AnalysisConfig)
    alerts: AlertsConfig = _help("spike detection and delivery", default_factory=AlertsConfig)
    digest: DigestConfig = _help("the daily digest", default_factory=DigestConfig)
    liuyan: LiuyanConfig = _help("留言 tracking", default_factory=LiuyanConfig)
    web: WebConfig = _help("the web app", default_factory=WebConfig)
    reports: ReportsConfig = _help("weekly, monthly and special reports", default_factory=ReportsConfig)
    daemon: DaemonConfig = _help("the daemon", default_factory=DaemonConfig)
    units: tuple[UnitConfig, ...] = _help("units cases are assigned to ([[units]])", default=())
    cases: CasesConfig = _help("研判 and 处置 of cases", default_factory=CasesConfig)
    base_dir: str = field(default=".", metadata={"internal": True})
    config_file: str = field(default="", metadata={"internal": True})  # for child processes

    def path(self, value: str) -> Path:
        """Resolve a path from the config relative to the config file's folder."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else Path(self.base_dir) / p

    @property
    def db_path(self) -> Any:
        """The store: a Path (SQLite) or a yuqing.store.url.StoreURL (PostgreSQL); Store() takes either."""
        if self.store.url:
            from yuqing.store.url import parse  # no SQL there: only reads the url

            return parse(self.store.url, self.base_dir)
        return self.path(self.store.path)

    def source_title(self, name: str) -> str:
        """A source's `title` for people (emails, pages), else its config name."""
        for src in self.sources:
            if src.name == name:
                return src.title or src.name
        return name

    def source(self, name: str) -> SourceConfig:
        for src in self.sources:
            if src.name == name:
                return src
        known = ", ".join(s.name for s in self.sources) or "none configured"
        raise ConfigError("sources", f"no source named {name!r} (known: {known})")


def _type_name(tp: Any) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(tp, str(tp))


def _resolve_env(value: Any, path: str) -> Any:
    if isinstance(value, dict) and set(value) == {"env"}:
        name = value["env"]
        if not isinstance(name, str) or name not in os.environ:
            raise ConfigError(path, f"environment variable {name!r} is not set")
        return os.environ[name]
    return value


def _convert(tp: Any, value: Any, path: str) -> Any:
    value = _resolve_env(value, path)
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _convert(args[0], value, path)
    if tp is Duration:
        return parse_duration(value, path)
    if tp is Size:
        return parse_size(value, path)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(path, f"expected a table, got {value!r}")
        return _build(tp, value, path)
    if origin is tuple:
        (item_tp, _) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(path, f"expected a list, got {value!r}")
        return tuple(_convert(item_tp, v, f"{path}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        _, val_tp = typing.get_args(tp)
        if not isinstance(value, dict):
            raise ConfigError(path, f"expected a table, got {value!r}")
        return {str(k): _convert(val_tp, v, f"{path}.{k}") for k, v in value.items()}
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp in (str, int, float, bool):
        if type(value) is not tp:
            raise ConfigError(path, f"expected {_type_name(tp)}, got {value!r}")
        return value
    raise ConfigError(path, f"unsupported setting type {tp}")  # pragma: no cover - a bug in the schema


def _build(cls: type, data: dict[str, Any], path: str) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    prefix = f"{path}." if path else ""
    for key in data:
        if key not in known:
            raise ConfigError(f"{prefix}{key}", f"unknown key (known: {', '.join(sorted(known))})")
    kwargs: dict[str, Any] = {}
    for name, f in known.items():
        if name in data:
            kwargs[name] = _convert(hints[name], data[name], f"{prefix}{name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{prefix}{name}", "required value is missing")
    return cls(**kwargs)


def _check(settings: Settings) -> None:
    if settings.store.url:
        _ = settings.db_path  # raises ConfigError("store.url", ...) when the url is malformed
    if not settings.locality.name.strip():
        raise ConfigError("locality.name", "must not be empty")
    seen: set[str] = set()
    for i, src in enumerate(settings.sources):
        path = f"sources[{i}]"
        if src.type not in SOURCE_TYPES:
            raise ConfigError(f"{path}.type", f"unknown source type {src.type!r} (one of {', '.join(SOURCE_TYPES)})")
        if src.name in seen:
            raise ConfigError(f"{path}.name", f"duplicate source name {src.name!r}")
        seen.add(src.name)
        if not re.fullmatch(r"[\w.\-]+", src.name):
            raise ConfigError(f"{path}.name", f"use letters, digits, '-', '_' or '.', got {src.name!r}")
        if src.type in ("feed", "html", "json", "hotlist") and not src.url:
            raise ConfigError(f"{path}.url", f"required for a {src.type} source")
        if src.url and not re.match(r"^https?://", src.url):
            raise ConfigError(f"{path}.url", f"expected an http(s) URL, got {src.url!r}")
        if src.type == "html" and not src.item:
            raise ConfigError(f"{path}.item", "required for an html source: the selector of one post")
        if src.type == "json" and not src.list_path:
            raise ConfigError(f"{path}.list_path", "required for a json source: the path to the list of posts")
        if src.type == "tieba" and not (src.forum or src.keyword or src.url):
            raise ConfigError(f"{path}.forum", "a tieba source needs a forum or a keyword")
        if src.selector_type not in ("css", "xpath"):
            raise ConfigError(f"{path}.selector_type", f"css or xpath, got {src.selector_type!r}")
        if src.every <= 0 and not src.cron:
            raise ConfigError(f"{path}.every", "must be more than zero")
        if src.cron and len(src.cron.split()) != 5:
            raise ConfigError(f"{path}.cron", f"expected 5 fields like '*/10 * * * *', got {src.cron!r}")
    for key, value in (("digest.at", settings.digest.at), ("daemon.housekeeping_at", settings.daemon.housekeeping_at)):
        if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", value):
            raise ConfigError(key, f"expected HH:MM, got {value!r}")
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(settings.digest.timezone)
    except Exception:
        raise ConfigError("digest.timezone", f"unknown timezone {settings.digest.timezone!r}") from None
    for fmt in settings.reports.formats:
        if fmt not in ("html", "docx", "pdf", "xlsx"):
            raise ConfigError("reports.formats", f"unknown format {fmt!r} (html, docx, pdf or xlsx)")
    for address in settings.reports.to:  # a typo here would only show as a failed mail each Monday
        if not re.fullmatch(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;.]+", address):
            raise ConfigError("reports.to", f"not an email address: {address!r}")
    if settings.analysis.sentiment not in ("model", "snownlp"):
        raise ConfigError("analysis.sentiment", f"model or snownlp, got {settings.analysis.sentiment!r}")
    _check_engine(settings.crawl)
    if settings.daemon.crawl_workers < 1:
        raise ConfigError("daemon.crawl_workers", f"must be at least 1, got {settings.daemon.crawl_workers}")
    for key in ("pipeline_every", "deliver_every"):
        if getattr(settings.daemon, key) <= 0:
            raise ConfigError(f"daemon.{key}", "must be more than zero")
    if ":" not in settings.web.bind:
        raise ConfigError("web.bind", f"expected host:port, got {settings.web.bind!r}")
    _check_alerts(settings.alerts)
    _check_cases(settings)


CRAWL_ENGINES = ("local", "scrapyd")


def _check_engine(crawl: Crawl) -> None:
    if crawl.engine not in CRAWL_ENGINES:
        raise ConfigError("crawl.engine", f"local or scrapyd, got {crawl.engine!r}")
    for i, url in enumerate(crawl.scrapyd):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/") or parts.query:
            raise ConfigError(f"crawl.scrapyd[{i}]", f"expected a scrapyd node like 'http://127.0.0.1:6800', got {url!r}")
        try:
            _ = parts.port  # urlsplit reads the port only when asked
        except ValueError:
            raise ConfigError(f"crawl.scrapyd[{i}]", f"bad port in {url!r}") from None
    if len(set(crawl.scrapyd)) != len(crawl.scrapyd):
        raise ConfigError("crawl.scrapyd", "a node is listed twice")
    if crawl.engine == "scrapyd" and not crawl.scrapyd:
        raise ConfigError("crawl.scrapyd", 'engine = "scrapyd" needs at least one node, e.g. ["http://127.0.0.1:6800"]')


def _check_cases(settings: Settings) -> None:
    names = {"红": "red", "橙": "orange", "黄": "yellow", "蓝": "blue"}
    for key, limits in settings.cases.deadlines.items():
        if key not in names and key not in names.values():
            raise ConfigError(f"cases.deadlines.{key}", "expected a level: 红, 橙, 黄 or 蓝")
        if limits.respond <= 0 or limits.close < limits.respond:
            raise ConfigError(f"cases.deadlines.{key}", "respond must be more than zero and close no sooner")
    seen: set[str] = set()
    for i, unit in enumerate(settings.units):
        if not unit.name.strip() or unit.name in seen:
            raise ConfigError(f"units[{i}].name", f"must be a unique, non-empty name, got {unit.name!r}")
        seen.add(unit.name)
        _check_targets(settings, f"units[{i}].notify", unit.notify)
    _check_targets(settings, "cases.escalate_to", settings.cases.escalate_to)


def _check_targets(settings: Settings, key: str, targets: tuple[str, ...]) -> None:
    """Each entry an apprise URL or the name of an [[alerts.channels]] channel (see the example config)."""
    named = {c.name for c in settings.alerts.channels}
    for j, target in enumerate(targets):
        if "://" in target:
            continue
        if not re.fullmatch(r"[\w.\-]+", target):
            raise ConfigError(f"{key}[{j}]", f"expected an apprise URL like mailto://... or a channel name, got {target!r}")
        if target not in named:
            known = ", ".join(sorted(named)) or "none: add [[alerts.channels]] name = ..., url = ..."
            raise ConfigError(f"{key}[{j}]", f'no channel named "{target}" in [[alerts.channels]] (known: {known})')


def _check_alerts(alerts: AlertsConfig) -> None:
    if not alerts.windows or any(w <= 0 for w in alerts.windows):
        raise ConfigError("alerts.windows", "give at least one window, each more than zero")
    if not 0 < alerts.p_value < 1:
        raise ConfigError("alerts.p_value", f"must be between 0 and 1, got {alerts.p_value}")
    if not 0 <= alerts.min_share <= 1:
        raise ConfigError("alerts.min_share", f"must be between 0 and 1, got {alerts.min_share}")
    if alerts.min_count < 1 or alerts.baseline_weeks < 1 or alerts.max_attempts < 1:
        bad = "min_count" if alerts.min_count < 1 else "baseline_weeks" if alerts.baseline_weeks < 1 else "max_attempts"
        raise ConfigError(f"alerts.{bad}", "must be at least 1")
    if alerts.min_baseline <= 0:
        raise ConfigError("alerts.min_baseline", "must be more than zero")
    scores = alerts.level_scores
    if len(scores) != 3 or list(scores) != sorted(scores):
        raise ConfigError("alerts.level_scores", f"expected 3 rising numbers (yellow, orange, red), got {list(scores)}")
    if alerts.hotlist_level not in ("blue", "yellow", "orange", "red"):
        raise ConfigError("alerts.hotlist_level", f"one of blue, yellow, orange, red, got {alerts.hotlist_level!r}")
    for key, weight in alerts.source_weights.items():
        if weight < 0:
            raise ConfigError(f"alerts.source_weights.{key}", f"a weight cannot be negative, got {weight}")
    for url in alerts.notify:
        if "://" not in url:
            raise ConfigError("alerts.notify", f"expected an apprise URL like mailto://..., got {url!r}")
    if alerts.send_timeout <= 0:
        raise ConfigError("alerts.send_timeout", "must be more than zero")
    names: set[str] = set()
    for i, channel in enumerate(alerts.channels):
        if not re.fullmatch(r"[\w.\-]+", channel.name) or channel.name in names or channel.name == "outbox":
            raise ConfigError(f"alerts.channels[{i}].name",
                              f"a unique name of letters, digits, '-', '_' or '.' (not 'outbox'), got {channel.name!r}")
        names.add(channel.name)
        if "://" not in channel.url:
            raise ConfigError(f"alerts.channels[{i}].url", f"expected an apprise URL like mailto://..., got {channel.url!r}")


def _check_source_keys(raw: dict[str, Any]) -> None:
    for i, src in enumerate(raw.get("sources") or []):
        if not isinstance(src, dict):
            raise ConfigError(f"sources[{i}]", "expected a table ([[sources]])")
        allowed = _COMMON_SOURCE_KEYS | _TYPE_KEYS.get(src.get("type", ""), set())
        for key in src:
            if key not in allowed and key in {f.name for f in dataclasses.fields(SourceConfig)}:
                raise ConfigError(f"sources[{i}].{key}", f"not used by a {src.get('type')!r} source")


def _hotlist_every(settings: Settings, raw: dict[str, Any]) -> Settings:
    sources = list(settings.sources)
    for i, (src, given) in enumerate(zip(sources, raw.get("sources") or [], strict=True)):
        if src.type == "hotlist" and "every" not in given and "cron" not in given:
            sources[i] = dataclasses.replace(src, every=Duration(HOTLIST_EVERY))
    return dataclasses.replace(settings, sources=tuple(sources))


def from_dict(raw: dict[str, Any], base_dir: str | Path = ".", config_file: str | Path = "") -> Settings:
    """Build Settings from parsed TOML; raises ConfigError with the key path."""
    _check_source_keys(raw)
    settings = _build(Settings, raw, "")
    settings = _hotlist_every(settings, raw)
    settings = dataclasses.replace(settings, base_dir=str(base_dir), config_file=str(config_file))
    _check(settings)
    return settings


def load(path: str | Path) -> Settings:
    """Read and check a config file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError("", f"config file not found: {path}") from None
    except UnicodeDecodeError:
        raise ConfigError("", f"config file is not UTF-8 text: {path}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("", f"{path} is not valid TOML: {exc}") from None
    return from_dict(raw, base_dir=path.resolve().parent, config_file=path.resolve())


def default_config_path() -> Path:
    return Path(os.environ.get("YUQING_CONFIG", "yuqing.toml"))


def describe(cls: type = Settings, prefix: str = "") -> list[tuple[str, str, str]]:
    """(key path, default, help) for every setting: the source of the documented example file."""
    rows: list[tuple[str, str, str]] = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.metadata.get("internal"):
            continue
        tp = hints[f.name]
        key = f"{prefix}{f.name}"
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            rows.extend(describe(tp, f"{key}."))
            continue
        if typing.get_origin(tp) is tuple and dataclasses.is_dataclass(typing.get_args(tp)[0]):
            rows.extend(describe(typing.get_args(tp)[0], f"{key}[]."))
            continue
        if f.default is not dataclasses.MISSING:
            default = repr(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            default = repr(f.default_factory())
        else:
            default = "(required)"
        rows.append((key, default, f.metadata.get("help", "")))
    return rows


if __name__ == "__main__":  # pragma: no cover
    for key, default, text in describe():
        sys.stdout.write(f"{key:40} {default:30} {text}\n")


def missing_files(settings: Settings) -> list[tuple[str, Path]]:
    """(key path, resolved path) of each file the config names that does not exist; relative
    paths resolve from the config file's folder."""
    found: list[tuple[str, Path]] = []
    for key in ("topics", "userdict", "stopwords", "model"):
        value = getattr(settings.analysis, key)
        if value and not settings.path(value).is_file():
            found.append((f"analysis.{key}", settings.path(value)))
    return found
