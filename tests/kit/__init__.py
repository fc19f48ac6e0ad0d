"""Shared test helpers, imported as ``tests.kit.<module>`` (the repository root is on sys.path).

helpers_kit: sessions with their own prefix; esm_testkit: the recording function, streams and
waiting for the event source mapping tests; sockets_kit: who listens on a port; shell_kit: a
shell whose settings must not leak in; events/: recorded Lambda events of each window kind;
aws_shapes: AWS's recorded answers (aws_recorded/, each naming its source) and a key-by-key,
type-by-type comparison with the local cloud's.
"""
