"""``python -m runner.cli``: the console script's entry."""

from runner.cli.entry import main

main()
