"""The pure content library: load, check, measure and render guides written in Markdown and YAML.

Nothing here imports Flask or SQLAlchemy (tests/pure/test_purity.py proves it): the
loader reads a folder into frozen dataclasses, the checker reports every problem as
`path:line: message`, LIX measures readability and the renderer turns Markdown into
sanitised HTML. Storing versions and the running app's library are services
(guide.services.versions, guide.services.library).
"""
