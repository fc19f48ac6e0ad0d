"""The local cloud's Kinesis event source mappings: settings, events, the pure processor,
the pollers that feed it, the service that keeps the mappings, and their API."""
