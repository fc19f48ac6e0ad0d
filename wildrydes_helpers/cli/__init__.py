"""The ``wildrydes`` command: ``main.py`` parses, one module per subcommand does the job.

Example
-------
>>> from wildrydes_helpers.cli.main import build_parser
>>> build_parser().parse_args(["local", "status"]).action
'status'
"""
