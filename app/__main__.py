"""``python -m app``: the same as the ``gatehouse`` console script."""

from app.cli import main

main()
