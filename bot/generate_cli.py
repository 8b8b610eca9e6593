"""`python -m bot generate "prompt" --out DIR`: the bot's client and image pipeline without Discord.

For trying an API key or a relay: the same checks, reference preparation, API client (streaming, retries) and
output fitting as `/imagine`, with the images written to a folder and a progress bar on stderr. Usage is kept in
a throw-away database, not the bot's.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

import aiohttp
from pydantic import ValidationError

from bot.errors import UserFacingError
from bot.imagegen.catalog import ASPECT_SIZES, RESOLUTIONS, either, size_for
from bot.imagegen.models import check_size
from bot.jobs.model import JobSpec, Outcome, OutputImage, Posted, Progress, ReferenceInput
from bot.jobs.prepare import prepare
from bot.jobs.runner import JobRunner
from bot.logs import make_handler
from bot.settings import Settings, describe_validation_error

EXIT_FAILED = 1
EXIT_USAGE = 2
_BAR = 24


class FileDelivery:
    """A Delivery that writes images into a folder and draws a progress bar."""

    def __init__(self, out_dir: Path, upload_limit: int, stream: TextIO = sys.stderr) -> None:
        self.out_dir = out_dir
        self.upload_limit = upload_limit
        self.paths: list[Path] = []
        self._stream = stream
        self._tty = stream.isatty()
        self._stamp = time.strftime("%Y%m%d-%H%M%S")
        self._last = ""

    async def progress(self, progress: Progress, *, refresh: bool = False) -> None:
        """Redraw the bar."""
        self._draw(progress)

    async def deliver(self, image: OutputImage, progress: Progress) -> Posted:
        """Write the image (in a thread) and report where it went."""
        path = self.out_dir / f"seedream_{self._stamp}_{image.position + 1}.{'png' if image.format == 'png' else 'jpg'}"
        await asyncio.to_thread(path.write_bytes, image.data)
        self.paths.append(path)
        self._draw(
            Progress(progress.job_id, progress.requested, progress.delivered + 1, progress.failed, progress.started)
        )
        return Posted(message_id=None, channel_id=None, url=str(path))

    async def finish(self, outcome: Outcome) -> None:
        """End the bar's line."""
        if self._tty and self._last:
            self._stream.write("\n")
            self._stream.flush()

    async def retire(self) -> None:
        """Nothing else shows this job."""

    def _draw(self, progress: Progress) -> None:
        done = progress.delivered + progress.failed
        filled = _BAR * done // max(progress.requested, 1)
        line = (
            f"[{'#' * filled}{'-' * (_BAR - filled)}] {progress.delivered}/{progress.requested} images"
            + (f", {progress.failed} failed" if progress.failed else "")
            + f" · {progress.elapsed:.0f}s"
        )
        if line == self._last:
            return
        self._last = line
        self._stream.write(f"\r{line}" if self._tty else f"{line}\n")
        self._stream.flush()


def parse_size(size: str | None, aspect: str | None, default: str) -> str:
    """`--size` (1K/2K/3K/4K or WxH) and `--aspect` to the API's `size` value; ValueError if invalid. Whether the
    model makes that size is checked with the request."""
    size = size.upper() if size and size.upper() in RESOLUTIONS else size or default
    if aspect is not None:
        if size not in RESOLUTIONS:
            raise ValueError(f"--aspect needs --size {either(RESOLUTIONS)}")
        if aspect not in ASPECT_SIZES:
            raise ValueError(f"--aspect must be one of {', '.join(ASPECT_SIZES)}")
        return size_for(size, aspect)
    return check_size(size)


def load_settings(model: str | None = None) -> Settings:
    """Settings from the environment (DISCORD_TOKEN is not needed here); `model` (an id, or the name of a model of
    IMAGE_MODELS) replaces IMAGE_MODEL and IMAGE_MODELS."""
    overrides: dict[str, Any] = {}
    if not os.environ.get("DISCORD_TOKEN"):
        overrides["discord_token"] = "not-used-by-generate"
    if model:
        found = Settings(**overrides).catalog.find(model)
        chosen = found.id if found else model.strip()
        overrides |= {"image_model": chosen, "image_models": [chosen]}
    return Settings(**overrides)


async def generate(settings: Settings, args: argparse.Namespace, size: str) -> int:
    """Run one job through JobRunner and write its images; the exit code."""
    from bot.services import image_client
    from bot.store import UsageStore

    references = tuple(ReferenceInput(name=path.name, data=path.read_bytes()) for path in args.ref)
    spec = JobSpec(
        user_id=0,
        guild_id=None,
        channel_id=None,
        prompt=args.prompt,
        count=args.count,
        size=size,
        size_label=size,
        references=references,
        kind="cli",
        output_format=args.format,
        web_search=args.web_search,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    delivery = FileDelivery(args.out, args.max_bytes)
    with tempfile.TemporaryDirectory() as scratch:
        store = await UsageStore.open(Path(scratch) / "generate.db")
        try:
            async with aiohttp.ClientSession() as http:
                runner = JobRunner(settings, image_client(settings, http), store)
                try:
                    prepared = await prepare(settings, spec)
                except UserFacingError as error:
                    print(f"error: {error.message}", file=sys.stderr)
                    return EXIT_USAGE
                outcome = await runner.run(prepared, delivery)
        finally:
            await store.close()
    return _summarise(outcome, delivery)


def _summarise(outcome: Outcome, delivery: FileDelivery) -> int:
    for path in delivery.paths:
        print(path)
    print(
        f"{outcome.status}: {outcome.delivered}/{outcome.requested} image(s) in {outcome.duration:.1f}s",
        file=sys.stderr,
    )
    if outcome.failures:
        print(f"  {outcome.failure_summary()}", file=sys.stderr)
    if outcome.error is not None:
        print(f"  {outcome.error.message} (code {outcome.error.code})", file=sys.stderr)
    return 0 if outcome.status == "completed" else EXIT_FAILED


def run(args: argparse.Namespace) -> int:
    """Entry point of `python -m bot generate`."""
    try:
        settings = load_settings(args.model)
    except ValidationError as error:
        print(f"Configuration error: {describe_validation_error(error)}", file=sys.stderr)
        return EXIT_USAGE
    _quiet_logging(settings)
    if settings.operator_key is None:
        print("error: generate needs IMAGE_API_KEY (the key to try)", file=sys.stderr)
        return EXIT_USAGE
    try:
        size = parse_size(args.size, args.aspect, settings.catalog.default.nearest(settings.default_resolution))
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    missing = [str(path) for path in args.ref if not path.is_file()]
    if missing:
        print(f"error: no such file: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    return asyncio.run(generate(settings, args, size))


def _quiet_logging(settings: Settings) -> None:
    """Warnings only (retries, failures), secrets masked; the progress bar tells the rest."""
    root = logging.getLogger()
    root.handlers[:] = [make_handler(settings.log_format, settings.secret_values)]
    root.setLevel(logging.WARNING)


def add_generate_command(commands: Any) -> None:
    """Register the `generate` subcommand."""
    parser = commands.add_parser("generate", help="generate images without Discord (to try a key or a relay)")
    parser.add_argument("prompt", help="what to draw")
    parser.add_argument("--count", type=int, default=1, help="number of images, 1-15 (default 1)")
    parser.add_argument(
        "--ref", type=Path, nargs="+", action="extend", default=[], metavar="FILE", help="reference image file(s)"
    )
    parser.add_argument("--model", help="model id, or the name of one of IMAGE_MODELS (default IMAGE_MODEL)")
    parser.add_argument("--size", help="1K, 2K, 3K, 4K or WIDTHxHEIGHT (default DEFAULT_RESOLUTION)")
    parser.add_argument("--aspect", help="aspect ratio with a 1K/2K/3K/4K size, e.g. 16:9")
    parser.add_argument("--format", choices=("jpeg", "png"), help="output format, where the model can choose")
    parser.add_argument("--web-search", action="store_true", help="let the model search the web (5.0 Lite)")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the images")
    parser.add_argument(
        "--max-bytes",
        type=int,
        default=512 * 1024 * 1024,
        help="shrink images larger than this many bytes, as for a Discord upload limit (default: keep as made)",
    )
    parser.set_defaults(run=run)
