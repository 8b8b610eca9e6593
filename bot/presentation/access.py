"""Who a member is for the limits (their roles), and who may see and act on a past job: members who can see the
channel it was made in."""

from __future__ import annotations

import discord

from bot.errors import UserFacingError
from bot.store import JobRecord


class JobGone(UserFacingError):
    """The job behind a button or a /job id does not exist (in this server), or the member may not see it."""

    code = "job_gone"


def role_ids(member: discord.abc.User) -> list[int]:
    """The member's role ids (none outside a server): their role tiers and exempt roles."""
    return [role.id for role in getattr(member, "roles", [])]


def job_permissions(interaction: discord.Interaction, job: JobRecord) -> discord.Permissions | None:
    """The member's permissions in the job's channel; None when the job is not theirs to see at all."""
    if (job.guild_id or None) != (interaction.guild_id or None):
        return None
    if job.guild_id is None or job.guild_id == 0:  # outside a server: only the member who asked
        return discord.Permissions(view_channel=True) if job.user_id == interaction.user.id else None
    if job.channel_id == interaction.channel_id:
        return interaction.permissions  # resolved by Discord for this very channel
    guild, member = interaction.guild, interaction.user
    channel = guild.get_channel_or_thread(job.channel_id) if guild is not None and job.channel_id else None
    if channel is None or not isinstance(member, discord.Member):
        return None
    return channel.permissions_for(member)


def can_see(interaction: discord.Interaction, job: JobRecord) -> bool:
    """Whether the member can see the channel the job was made in."""
    permissions = job_permissions(interaction, job)
    return permissions is not None and permissions.view_channel


def shown_here(interaction: discord.Interaction, job: JobRecord) -> bool:
    """Whether the job may be shown publicly where the interaction happened: its own channel or a public one."""
    if job.channel_id == interaction.channel_id:
        return True
    guild = interaction.guild
    channel = guild.get_channel_or_thread(job.channel_id) if guild is not None and job.channel_id else None
    return channel is not None and guild is not None and channel.permissions_for(guild.default_role).view_channel


def visible_job(interaction: discord.Interaction, job: JobRecord | None, job_id: int, missing: str) -> JobRecord:
    """The job if the member may see it; JobGone (the same answer as for a job that never existed) otherwise."""
    if job is None or not can_see(interaction, job):
        raise JobGone(missing.format(id=job_id))
    return job
