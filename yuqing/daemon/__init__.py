"""Parts of the daemon (yuqing/scheduler.py): the serial pipeline worker, the delivery worker, running crawls and
child processes, housekeeping, a damaged store."""
