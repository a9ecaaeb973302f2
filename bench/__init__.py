"""The Gatehouse benchmark harness (``python -m bench``, ``make bench``).

It builds a throwaway environment, serves a bare Flask endpoint and then
Gatehouse with the same gunicorn settings, drives each with ``wrk`` on
loopback and reports the rates next to the performance targets.
"""
