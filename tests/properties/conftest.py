"""Property tests of the pure core: searches for a counterexample over many inputs.

Hypothesis draws random codes, tables, dates and texts; test_yaml_loaders.py reads
every YAML text of the repository with both readers. Like tests/pure/, nothing
here builds an app or opens a database. The cases there are one worked example
each and run in about a second; the searches here take several seconds (hundreds
of drawn cases a test), so they live apart.
Run them alone with `pytest tests/properties`.
"""
