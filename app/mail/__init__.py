"""The mail room: builds emails from the outbox and delivers them (SMTP or ``.eml`` files).

``worker.run_once`` is one pass of ``gatehouse worker``. Like every room it goes
through ``app.services`` for the database and imports no other room.
"""
