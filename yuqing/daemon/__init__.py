"""Parts of the daemon (yuqing/scheduler.py): the serial pipeline worker, child processes, housekeeping."""
