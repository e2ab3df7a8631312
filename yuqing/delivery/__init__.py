"""The delivery outbox: queued messages and the channels that send them (email, apprise, .eml files)."""
