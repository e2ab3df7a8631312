"""CLI of the delivery stage (registered by yuqing.cli): `yuqing deliver`."""

from __future__ import annotations

import click

from yuqing.cli import App, fail, pass_app


@click.command()
@click.option("--retry-failed", is_flag=True,
              help="First put the failed messages back in the queue (fresh attempts), then send.")
@click.option("--to", "to", metavar="CHANNEL", default=None,
              help="With --retry-failed: send them to this channel instead (a [[alerts.channels]] name).")
@click.option("--channel", "channel", metavar="CHANNEL", default=None,
              help="With --retry-failed: only the messages that failed on this channel.")
@pass_app
def deliver(app: App, retry_failed: bool, to: str | None, channel: str | None) -> None:
    """Send the queued messages that are due (alerts and digests), retrying failed ones.

    Exits 1 when a delivery failed (it stays queued and is retried with backoff).
    A message that failed for good (its channel was removed, the server refused it)
    stays in `yuqing status`; --retry-failed queues it again, --to readdresses it.
    A channel that already has the message is skipped: nothing is sent twice.

    Examples:

    \b
        yuqing --config yuqing.toml deliver
        yuqing --config yuqing.toml deliver --retry-failed --to duty-email
    """
    from yuqing.delivery.outbox import deliver_pending, retry_failed as requeue
    from yuqing.errors import DeliveryError

    if (to or channel) and not retry_failed:
        fail("--to and --channel go with --retry-failed", 2)
    settings = app.settings
    store = app.store()
    if retry_failed:
        try:
            requeued, skipped = requeue(settings, store, channel=channel, to=to)
        except DeliveryError as exc:
            fail(str(exc), 2)
        click.echo(f"re-queued {len(requeued)} failed message(s)" + (f" to {to}" if to else ""))
        if skipped:
            click.echo(f"skipped {len(skipped)} already queued or sent to {to}: "
                       + ", ".join(f"#{i}" for i in skipped))
    sent, failed = deliver_pending(settings, store)
    click.echo(f"deliveries: {sent} sent, {failed} failed")
    if failed:
        raise SystemExit(1)


commands: list[click.Command] = [deliver]
