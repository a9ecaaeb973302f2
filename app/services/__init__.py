"""The one domain layer: the only code that queries or commits.

Rooms (oauth, api, console, cli, mail) call these functions; they raise the
domain errors of ``app.errors``.
"""
