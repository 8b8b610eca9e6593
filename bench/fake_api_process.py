"""Run the fake image API in its own process (so it does not share a CPU-bound loop with the fake Discord)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from bench.common import API_KEY
from tests.fakes.image_api import FakeImageApi


async def serve(args: argparse.Namespace) -> None:
    """Start, print the base URL, serve until stdin closes."""
    api = FakeImageApi(api_key=API_KEY, image_delay=args.delay, render_size=(args.width, args.height))
    api.noise = args.noise
    await api.start()
    print(api.base_url, flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    await api.close()


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--height", type=int, default=512)
    parser.add_argument("--noise", action="store_true")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
