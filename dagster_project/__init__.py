"""gtlake's Dagster project: a thin shell over the library (`definitions` is the code location).

Nothing is imported here, so `python -m dagster_project.run` can configure the environment before
the definitions load.
"""
