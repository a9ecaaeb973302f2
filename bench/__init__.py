"""The Gatehouse benchmark harness (``python -m bench``, ``make bench``) and soak (``make soak``).

``python -m bench`` serves node oidc-provider (the anchor, from the shared
peer folder), a bare Flask endpoint (the yardstick) and Gatehouse, drives each
with ``wrk`` on loopback in interleaved rounds, and prints the rates, latencies
and CPU per request next to the performance targets. ``python -m bench.soak``
checks that ``gatehouse serve`` holds up under load, a killed worker and a
SIGTERM. Modules: kinds (server command lines), block and rounds (what runs
when), load (wrk), procs (CPU and memory from /proc), peer, report, soak.
"""
