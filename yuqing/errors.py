"""The exceptions yuqing raises on purpose.

    YuqingError            base class; str() is a sentence a user can act on
    ├── ConfigError        bad configuration: carries the key path ("sources[2].every"); CLI exits 2
    ├── StoreError         the database cannot be opened, is locked by a daemon, or is too new
    ├── SourceError        one source failed a run; the message is its last_error in words
    │   └── BlockedError   the site answered with a captcha, a risk-control status or "login required"
    └── DeliveryError      a channel refused or could not take a message (recorded, retried later)

Anything else escaping a stage is a bug; the daemon logs it and carries on with the next job.
"""

from __future__ import annotations


class YuqingError(Exception):
    """Base class of every error yuqing raises on purpose."""


class ConfigError(YuqingError):
    """A config value is missing, unknown or malformed; `path` names the key."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}" if path else reason)


class StoreError(YuqingError):
    """The store cannot be used as asked."""


class SourceError(YuqingError):
    """A source's run failed; the message is recorded as the source's last error."""


class BlockedError(SourceError):
    """The site refused us (captcha, HTTP 432, login required): stop and back off, never dodge."""


class DeliveryError(YuqingError):
    """A notification channel failed to take a message."""
