"""Subcommands of the ``wildrydes`` CLI."""
