# Answer key of 05's exercise: each unicorn's average speed (m/s) in each window.
#
# The cell, solved (check_speeds(speeds, table, config.window_seconds) passes):
#
#     speeds = table.assign(speed=table["distance"] / table["records"])
#     speeds = speeds[["name", "windowStart", "speed"]]
#
# Why records: each record reports the metres flown in one second, so a row's records are
# the seconds that unicorn flew in that window. Dividing by the window's length (60, or
# config.window_seconds) is right only for a window the unicorn flew from start to end: the
# first and last windows of a run are partial, and their speed would come out too low.
# Also accepted: a groupby over name and windowStart, e.g.
#     table.groupby(["name", "windowStart"]).apply(lambda g: g.distance.sum() / g.records.sum())
# (one row per unicorn and window already, so it gives the same numbers).
import pandas as pd


def speeds_of(table: pd.DataFrame) -> pd.DataFrame:
    """The answer: a DataFrame with name, windowStart and speed (m/s)."""
    speeds = table.assign(speed=table["distance"] / table["records"])
    return speeds[["name", "windowStart", "speed"]]
