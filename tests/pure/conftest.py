"""Pure tests: the planner, rules, simulation, codes and the content library, with no app.

Nothing here builds an app or opens a database; the modules under test import
neither Flask nor SQLAlchemy (test_purity.py proves it in a fresh interpreter).
Each test is one worked case; the random searches over the same code are in
tests/properties/. Run these alone with `pytest tests/pure`.
"""
