"""The local cloud's Lambda: a runtime of warm worker processes, their logs, the Invoke API."""
