"""CLI of the crawl engines: `yuqing scrapyd deploy` and `yuqing scrapyd status`."""

from __future__ import annotations

from typing import Any

import click


def _nodes(app: Any, given: tuple[str, ...]) -> list[str]:
    from yuqing.cli import fail
    from yuqing.errors import ConfigError
    from yuqing.settings import Crawl, _check_engine

    nodes = list(given) or list(app.settings.crawl.scrapyd)
    if not nodes:
        fail("no scrapyd node: list them in [crawl] scrapyd, or give --node http://HOST:6800", 2)
    try:
        _check_engine(Crawl(scrapyd=tuple(nodes)))
    except ConfigError as exc:
        fail(f"--node: {exc.reason}" if given else f"config error: {exc}", 2)
    return nodes


@click.group("scrapyd")
def scrapyd_group() -> None:
    """Crawl on scrapyd nodes: deploy the spiders to them, see what they run.

    With [crawl] engine = "scrapyd", every source's run is a job on one of the
    [crawl] scrapyd nodes; each node runs scrapyd where yuqing is installed.

    Example:

    \b
        yuqing --config yuqing.toml scrapyd deploy
        yuqing --config yuqing.toml scrapyd status
    """


@scrapyd_group.command("deploy")
@click.option("--node", "nodes", multiple=True, metavar="URL", help="Deploy to this node (repeatable); default: [crawl] scrapyd.")
@click.pass_obj
def deploy_command(app: Any, nodes: tuple[str, ...]) -> None:
    """Upload yuqing's crawl project (an egg) to every scrapyd node.

    Prints one line per node; exits 1 if any node did not take it. Run it again
    after upgrading yuqing: the nodes run the newest version deployed.

    Example:

    \b
        yuqing --config yuqing.toml scrapyd deploy
        yuqing --config yuqing.toml scrapyd deploy --node http://10.0.0.2:6800
    """
    from yuqing.crawlers.engines.project import PROJECT, deploy

    results = deploy(_nodes(app, nodes))
    for r in results:
        click.echo(f"{r.node}: deployed {PROJECT} (version {r.version})" if r.ok else f"{r.node}: FAILED — {r.error}")
    if any(not r.ok for r in results):
        raise SystemExit(1)


@scrapyd_group.command("status")
@click.option("--node", "nodes", multiple=True, metavar="URL", help="Ask this node (repeatable); default: [crawl] scrapyd.")
@click.pass_obj
def status_command(app: Any, nodes: tuple[str, ...]) -> None:
    """Show each scrapyd node: up or not, the version deployed, its jobs.

    Exits 1 if a node is down or has no yuqing project deployed.

    Example:

    \b
        yuqing --config yuqing.toml scrapyd status
    """
    from yuqing.crawlers.engines.node import Node, NodeError
    from yuqing.crawlers.engines.project import PROJECT

    bad = False
    for url in _nodes(app, nodes):
        node = Node(url)
        try:
            daemon = node.get("daemonstatus.json")
            versions = node.get("listversions.json", {"project": PROJECT}).get("versions") or []
        except NodeError as exc:
            click.echo(f"{url}: DOWN — {exc}")
            bad = True
            continue
        latest = f"{PROJECT} (version {versions[-1]})" if versions else f"no {PROJECT} (run `yuqing scrapyd deploy`)"
        bad = bad or not versions
        click.echo(f"{url}: up, {latest}; jobs pending {daemon.get('pending', 0)}, "
                   f"running {daemon.get('running', 0)}, finished {daemon.get('finished', 0)}")
    if bad:
        raise SystemExit(1)


commands: list[click.Command] = [scrapyd_group]
