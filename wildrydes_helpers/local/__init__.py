"""The embedded local cloud: moto plus a Lambda runtime and Kinesis event source mappings."""
