"""The lab's notebooks by name, so a helper can say which one to run first.

Each step names the notebook that creates its resource: an error about a missing table says
"Run 01_create_table first". The names live here, apart from the helpers that use them,
because every step module, the error translation of ``lab_step`` and the notebooks'
prerequisites all need them, and none of those should import another just for a name.

Example
-------
>>> NB_TABLE
'01_create_table'
"""

from __future__ import annotations

NB_STREAM = "00_introduction"
NB_TABLE = "01_create_table"
NB_ROLE = "02_create_role"
NB_FUNCTION = "03_create_function"
NB_MONITOR = "04_monitor"
NB_QUERY = "05_query"
NB_CLEANUP = "06_clean_up"
