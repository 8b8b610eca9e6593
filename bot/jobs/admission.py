"""Admission: the one gate every job start goes through (/imagine, result buttons, blends, Retry).

In order: the shutting-down refusal, the instant checks (among them: the job's model can do what it asks), the
server's own API key when it needs one (or has an unusable one), the server's quotas, channels, blocked words and
cooldown with the queue's limits (QuotaService, which reserves the job's row in the same transaction), then the
cost question. A refusal raises a UserFacingError before anything is acknowledged or spent; what passes is an
`Admitted` (a `pending` job row) that the caller must queue or release.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.errors import UserFacingError
from bot.i18n import N_, _
from bot.imagegen.catalog import resolution_of
from bot.jobs.model import JobSpec
from bot.jobs.prepare import admitted_params, check
from bot.quotas import AdmitRequest, QuotaGrant, QuotaService
from bot.server_keys import ServerKeys

log = logging.getLogger(__name__)

RESTARTING = N_("The bot is restarting. Please try again in a minute.")

# Asks the member whether an expensive job may run; False = declined or not answered (nothing is spent).
CostQuestion = Callable[[QuotaGrant], Awaitable[bool]]


class Restarting(UserFacingError):
    """The bot is shutting down and starts nothing new."""

    def __init__(self) -> None:
        super().__init__(_(RESTARTING), code="restarting")


@dataclass(slots=True)
class Admitted:
    """A job that passed the gate: its spec with the server's defaults and its reservation (the pending row)."""

    spec: JobSpec
    grant: QuotaGrant

    @property
    def job_id(self) -> int:
        """The job's id (its row holds the reservation)."""
        return self.grant.job_id

    @property
    def modlog_channel(self) -> int | None:
        """The server's mod-log channel, if it has one."""
        return self.grant.limits.modlog_channel

    async def release(self) -> None:
        """The job will not run: cancel its row (nothing is counted)."""
        await self.grant.release()

    @contextlib.asynccontextmanager
    async def released_on_error(self) -> AsyncIterator[None]:
        """Release everything if the block raises."""
        async with self.grant.released_on_error():
            yield


class Admission:
    """The gate. `close()` (shutdown) makes it refuse every new start."""

    def __init__(self, quotas: QuotaService, keys: ServerKeys | None = None) -> None:
        self.quotas = quotas
        self.keys = keys
        self.closing = False

    def close(self) -> None:
        """Refuse every new start from now on (the bot is stopping)."""
        self.closing = True

    async def admit(
        self,
        spec: JobSpec,
        role_ids: Sequence[int],
        *,
        references: int,
        ask: CostQuestion | None,
        manager: bool = False,
    ) -> Admitted | None:
        """Check everything for this start and reserve its quota share, cost and queue place, or raise a refusal.

        `role_ids` are the member's roles (their tier, exempt roles); `manager`: they have Manage Server (money may
        be shown to them, and a refusal they can fix tells them how). `references` is how many reference images the
        job will have; `ask` is the cost question (None: no question, e.g. a plain message that cannot ask). None:
        the member declined the cost.
        """
        if self.closing:
            raise Restarting()
        model = check(spec, self.quotas.settings.catalog, references=references)
        if self.keys is not None:
            await self.keys.admit(spec.guild_id, manager=manager)
        request = AdmitRequest(
            spec.guild_id,
            spec.channel_id,
            spec.user_id,
            tuple(role_ids),
            spec.count,
            resolution_of(spec.size),
            spec.prompt,
            spec.kind,
            admitted_params(spec, references),
            model=model.id,
            origin=spec.origin,
            manager=manager,
            language=spec.language,
        )
        grant = await self.quotas.admit(request)
        admitted = Admitted(_with_server_defaults(spec, grant), grant)
        async with admitted.released_on_error():
            confirmed = not grant.needs_confirmation or ask is None or await ask(grant)
        if not confirmed:
            await admitted.release()
            return None
        return admitted


def _with_server_defaults(spec: JobSpec, grant: QuotaGrant) -> JobSpec:
    if spec.watermark is not None:
        return spec
    return dataclasses.replace(spec, watermark=grant.watermark)
