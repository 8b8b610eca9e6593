"""Entry point: `python -m bot` or `imagine-bot` runs the bot (the command line is bot/cli.py).

The garbage collector is paused before anything else is imported: start-up makes about 185 000 objects, nearly all
of which live as long as the process, and the collector would walk them over and over while they are made
(bot/heap.py).
"""

import sys

from bot.heap import pause_collector

pause_collector()

from bot.cli import main  # noqa: E402  (after the pause: this import is most of start-up)

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
