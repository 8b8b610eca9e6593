"""A member's defaults per server (/settings) and how a new job's options are chosen from them.

What a member types always wins; an option left empty takes the member's default, then the server's (model,
resolution) or the bot's (one image, the ratio from the prompt). A default resolution the job's model does not make
becomes the nearest one it does. A default the server does not allow (4K when 4K is off, a set
larger than the server's limit) is not refused: the job uses what is allowed and a note says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.i18n import _, ngettext, number
from bot.imagegen.catalog import ASPECT_SIZES, RESOLUTIONS, Model
from bot.imagegen.models import MAX_TOTAL_IMAGES
from bot.limits import Limits
from bot.quotas import QuotaService
from bot.store import UsageStore
from bot.store.member_defaults import MemberDefaults

FROM_PROMPT = "auto"  # an explicit "let the prompt decide the ratio", whatever the member's default says
Note = Callable[[], str]  # a note written when called: in the language of the public message it goes with


@dataclass(frozen=True, slots=True)
class Chosen:
    """The options a new job runs with, and notes on the defaults the server's limits changed."""

    model: str
    resolution: str
    aspect: str | None
    count: int
    written: tuple[Note, ...] = ()

    @property
    def notes(self) -> tuple[str, ...]:
        """The notes, in the current language (they go above the public result: write them in its language)."""
        return tuple(note() for note in self.written)


def allowed_resolution(limits: Limits) -> str:
    """What a job gets instead of a 4K default on a server that does not allow 4K."""
    return limits.default_resolution if limits.default_resolution != "4K" else "2K"


def most_images(limits: Limits, references: int, model: Model) -> int:
    """The largest set a request with `references` reference images may ask for on this server with this model."""
    return max(1, min(limits.max_set_size, MAX_TOTAL_IMAGES - min(references, model.max_references)))


def choose(
    defaults: MemberDefaults,
    limits: Limits,
    model: Model,
    *,
    resolution: str | None,
    aspect: str | None,
    count: int | None,
    references: int = 0,
    highest: str | None = None,
) -> Chosen:
    """The options of a new job: what was given, else the member's default (fitted to the server's limits, the
    member's highest resolution (their role tier) and the sizes the model makes)."""
    notes: list[Note] = []
    if resolution is None:
        resolution = defaults.resolution or limits.default_resolution
        if defaults.resolution == "4K" and not limits.allow_4k:
            resolution = instead = allowed_resolution(limits)
            notes.append(
                lambda: _(
                    "ℹ️ Your default resolution 4K is not allowed on this server, so this uses {resolution}."
                ).format(resolution=instead)
            )
        if highest in RESOLUTIONS and resolution in RESOLUTIONS and _rank(resolution) > _rank(highest):
            if defaults.resolution == resolution:
                most = highest
                notes.append(
                    lambda: _(
                        "ℹ️ Your role allows at most {resolution}, so this uses {resolution}, not your default."
                    ).format(resolution=most)
                )
            resolution = highest
        resolution = model.nearest(resolution)
    if aspect == FROM_PROMPT:
        aspect = None
    elif aspect is None:
        aspect = defaults.aspect
    if count is None:
        count = defaults.count or 1
        room = most_images(limits, references, model)
        if count > room:
            notes.append(_count_note(count, room, server_limit=room == limits.max_set_size))
            count = room
    return Chosen(model.id, resolution, aspect, count, tuple(notes))


def _count_note(count: int, room: int, *, server_limit: bool) -> Note:
    """The note for a default set size larger than what this job may make."""

    def write() -> str:
        if server_limit:
            note = ngettext(
                "ℹ️ Your default of {count} image is more than this server's limit ({room}), so this makes {room}.",
                "ℹ️ Your default of {count} images is more than this server's limit ({room}), so this makes {room}.",
                count,
            )
        else:
            note = ngettext(
                "ℹ️ Your default of {count} image is more than what fits with your reference images ({room}), "
                "so this makes {room}.",
                "ℹ️ Your default of {count} images is more than what fits with your reference images ({room}), "
                "so this makes {room}.",
                count,
            )
        return note.format(count=number(count), room=number(room))

    return write


def _rank(resolution: str) -> int:
    return RESOLUTIONS.index(resolution)


def valid(defaults: MemberDefaults) -> MemberDefaults:
    """The defaults with anything no longer offered (an unknown ratio, a count out of range) dropped."""
    return MemberDefaults(
        resolution=defaults.resolution if defaults.resolution in RESOLUTIONS else None,
        aspect=defaults.aspect if defaults.aspect in ASPECT_SIZES else None,
        count=defaults.count if defaults.count is not None and 1 <= defaults.count <= MAX_TOTAL_IMAGES else None,
        model=defaults.model,
    )


class MemberSettings:
    """Members' defaults in the store, and the choice of a new job's options from them."""

    def __init__(self, store: UsageStore, quotas: QuotaService) -> None:
        self.store = store
        self.quotas = quotas

    async def defaults(self, guild_id: int | None, user_id: int) -> MemberDefaults:
        """The member's defaults in this server."""
        return valid(await self.store.member_defaults.get(guild_id, user_id))

    async def update(self, guild_id: int | None, user_id: int, **changes: str | int | None) -> MemberDefaults:
        """Change some defaults (None: back to the server's or the bot's)."""
        return valid(await self.store.member_defaults.update(guild_id, user_id, **changes))

    async def reset(self, guild_id: int | None, user_id: int) -> None:
        """Forget the member's defaults in this server."""
        await self.store.member_defaults.reset(guild_id, user_id)

    async def choose(
        self,
        guild_id: int | None,
        user_id: int,
        role_ids: Sequence[int] = (),
        *,
        model: str | None = None,
        resolution: str | None = None,
        aspect: str | None = None,
        count: int | None = None,
        references: int = 0,
    ) -> Chosen:
        """A new job's options from what the member gave and their defaults here."""
        defaults = await self.defaults(guild_id, user_id)
        limits = await self.quotas.limits(guild_id or 0)
        tier = await self.quotas.member_limits(guild_id, role_ids)
        limits = dataclasses.replace(limits, max_set_size=tier.max_set_size or limits.max_set_size)
        catalog = self.quotas.settings.catalog
        offered = {m.id for m in catalog.offered}
        member_model = defaults.model if defaults.model in offered else None  # a model no longer offered: dropped
        rules = catalog.get(model or member_model or limits.default_model)
        return choose(
            defaults,
            limits,
            rules,
            resolution=resolution,
            aspect=aspect,
            count=count,
            references=references,
            highest=tier.max_resolution,
        )
