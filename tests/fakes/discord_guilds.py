"""Guilds of the fake Discord: each has its own roles, members (the bot among them) and channels."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .discord_models import FakeUser


@dataclass(eq=False)
class FakeGuild:
    """One guild: roles and members by id; its channels live in the state's channel table."""

    id: str
    name: str
    owner_id: str
    roles: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, FakeUser] = field(default_factory=dict)
    system_channel_id: str | None = None
    locale: str = "en-US"  # the server's preferred locale (interactions' `guild_locale`)

    @property
    def bot(self) -> FakeUser:
        """The bot as a member of this guild (its own roles here)."""
        return next(m for m in self.members.values() if m.bot)

    def payload(self, channels: list[dict[str, Any]]) -> dict[str, Any]:
        """Full GUILD_CREATE object (only the bot among `members`) with the given channels."""
        return {
            "id": self.id,
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": self.owner_id,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "application_id": None,
            "system_channel_id": self.system_channel_id,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "preferred_locale": self.locale,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "features": [],
            "emojis": [],
            "stickers": [],
            "roles": list(self.roles.values()),
            "joined_at": self.bot.joined_at,
            "large": False,
            "unavailable": False,
            "lazy": True,
            "member_count": len(self.members),
            "members": [self.bot.member_payload()],
            "channels": [c for c in channels if c["type"] not in (1, 11)],
            "threads": [c for c in channels if c["type"] == 11],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def partial(self) -> dict[str, Any]:
        """The partial guild of `GET /users/@me/guilds`, with the bot's permissions."""
        return {
            "id": self.id,
            "name": self.name,
            "icon": None,
            "banner": None,
            "owner": False,
            "permissions": str(self.bot.permissions()),
            "features": [],
        }
