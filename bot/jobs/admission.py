"""Admission: the one gate every job start goes through (/imagine, result buttons, blends, Retry, auto-resume).

In order: the shutting-down refusal, the server's quotas, channels, blocked words and cooldown (QuotaService),
the instant checks, a place in the queue, then the cost question. A refusal raises a UserFacingError before
anything is acknowledged or spent; what passes is an `Admitted` that the caller must run or release.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass

from bot.errors import UserFacingError
from bot.imagegen.models import resolution_of
from bot.jobs.model import JobSpec
from bot.jobs.prepare import check
from bot.jobs.queue import JobQueue, Place
from bot.quotas import QuotaGrant, QuotaService

log = logging.getLogger(__name__)

RESTARTING = "The bot is restarting. Please try again in a minute."

# Asks the member whether an expensive job may run; False = declined or not answered (nothing is spent).
CostQuestion = Callable[[QuotaGrant], Awaitable[bool]]


class Restarting(UserFacingError):
    """The bot is shutting down and starts nothing new."""

    def __init__(self) -> None:
        super().__init__(RESTARTING, code="restarting")


@dataclass(slots=True)
class Admitted:
    """A job that passed the gate: its spec with the server's defaults, its quota reservation, its queue place."""

    spec: JobSpec
    grant: QuotaGrant
    place: Place

    @property
    def modlog_channel(self) -> int | None:
        """The server's mod-log channel, if it has one."""
        return self.grant.limits.modlog_channel

    def release(self) -> None:
        """The job will not run: give back the quota reservation and the queue place."""
        self.grant.release()
        self.place.release()

    @contextlib.contextmanager
    def released_on_error(self) -> Iterator[None]:
        """Release everything if the block raises."""
        try:
            yield
        except BaseException:
            self.release()
            raise


class Admission:
    """The gate. `close()` (shutdown) makes it refuse every new start."""

    def __init__(self, quotas: QuotaService, queue: JobQueue) -> None:
        self.quotas = quotas
        self.queue = queue
        self.closing = False

    def close(self) -> None:
        """Refuse every new start from now on (the bot is stopping)."""
        self.closing = True

    async def admit(
        self, spec: JobSpec, role_ids: Sequence[int], *, references: int, ask: CostQuestion | None
    ) -> Admitted | None:
        """Check everything for this start and reserve its quota share and queue place, or raise a refusal.

        `references` is how many reference images the job will have; `ask` is the cost question (None only
        for a job whose member already agreed to it: an automatic resume). None: the member declined the cost.
        """
        if self.closing:
            raise Restarting()
        size = resolution_of(spec.size)
        grant = await self.quotas.admit(
            spec.guild_id, spec.channel_id, spec.user_id, list(role_ids), spec.count, size, spec.prompt
        )
        with grant.released_on_error():
            check(spec, references=references)
            place = await self.queue.reserve(spec.user_id)
        admitted = Admitted(_with_server_defaults(spec, grant), grant, place)
        with admitted.released_on_error():
            confirmed = not grant.needs_confirmation or ask is None or await ask(grant)
        if not confirmed:
            admitted.release()
            return None
        return admitted


def _with_server_defaults(spec: JobSpec, grant: QuotaGrant) -> JobSpec:
    if spec.watermark is not None:
        return spec
    return dataclasses.replace(spec, watermark=grant.watermark)
