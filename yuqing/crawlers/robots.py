"""robots.txt for every request, also those sent while robots.txt itself is being fetched.

Scrapy's RobotsTxtMiddleware (2.13+) makes the requests that arrive while a host's robots.txt is
downloading wait on one Deferred, turned into a future per waiter (`Deferred.asFuture`). A
Deferred hands its result down its callback chain and `asFuture`'s callback returns None, so only
the first waiter gets the parser: every other one gets None, which the middleware reads as "no
robots.txt", and is let through. A run's first requests to a host (a list page plus the posts a
`refresh` re-visits) came in together and all but one skipped robots.txt. Here every waiter reads
the parser the middleware stored once the Deferred fired.
"""

from __future__ import annotations

from typing import Any

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxtMiddleware
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred


class RobotsTxtMiddleware(ScrapyRobotsTxtMiddleware):
    async def robot_parser(self, request: Any) -> Any:
        found = await super().robot_parser(request)
        stored = self._parsers.get(urlparse_cached(request).netloc)
        return found if isinstance(stored, Deferred) else stored


MIDDLEWARES = {
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "yuqing.crawlers.robots.RobotsTxtMiddleware": 100,  # Scrapy's own place for it
}
