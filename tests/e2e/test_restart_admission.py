"""Retry and auto-resume start jobs through the same admission gate as every other start: quotas, allowed
channels and the server's watermark hold after a restart too."""

from __future__ import annotations

from tests.e2e.helpers import job_done
from tests.e2e.test_recovery import RETRY, interrupt_a_job, retry_id

MESSAGE = 4


async def admin_sets(discord_fake, command: str, **options) -> None:
    admin = discord_fake.add_member(manage_guild=True)
    answer = await discord_fake.slash(admin, f"imagine-admin {command}", **options)
    await answer.wait_response()


async def restarted_notice(discord_fake, image_api, start_bot, user, **second_settings):
    """Interrupt a 3-image job after its first image, restart with `second_settings`; the Retry notice."""
    first = await start_bot()
    interaction = await interrupt_a_job(discord_fake, image_api, first, user)
    second = await start_bot(**RETRY, **second_settings)
    notice = await discord_fake.wait_for(lambda: retry_id(interaction.original) and interaction.original)
    return second, notice


async def test_retry_over_the_daily_limit_is_refused_privately(discord_fake, image_api, start_bot) -> None:
    alice = discord_fake.add_member("alice")
    second, notice = await restarted_notice(discord_fake, image_api, start_bot, alice, quota_member_daily_images=2)

    click = await discord_fake.click(alice, notice, retry_id(notice))
    await click.wait_response()
    assert click.ephemeral and click.response_type == MESSAGE
    assert "Daily limit per member" in click.original.text and "used 1 of your 2" in click.original.text
    assert len(image_api.requests) == 1 and len(await second.store.recent_jobs()) == 1
    assert retry_id(notice), "a refused Retry keeps its button"


async def test_retry_in_a_channel_no_longer_allowed_is_refused_privately(discord_fake, image_api, start_bot) -> None:
    alice = discord_fake.add_member("alice")
    second, notice = await restarted_notice(discord_fake, image_api, start_bot, alice)
    art = discord_fake.add_channel("art")
    await admin_sets(discord_fake, "channel", channel=art)

    click = await discord_fake.click(alice, notice, retry_id(notice))
    await click.wait_response()
    assert click.ephemeral and f"<#{art}>" in click.original.text
    assert len(image_api.requests) == 1 and len(await second.store.recent_jobs()) == 1


async def test_retry_uses_the_servers_watermark_setting(discord_fake, image_api, start_bot) -> None:
    alice = discord_fake.add_member("alice")
    second, notice = await restarted_notice(discord_fake, image_api, start_bot, alice)
    await admin_sets(discord_fake, "set", setting="watermark", value="on")

    await discord_fake.click(alice, notice, retry_id(notice))
    new_job, _ = await job_done(second, 2)
    assert new_job.images_delivered == 2
    assert [r.json["watermark"] for r in image_api.requests] == [False, True]


async def test_auto_resume_over_the_daily_limit_offers_retry_instead(discord_fake, image_api, start_bot) -> None:
    first = await start_bot()
    interaction = await interrupt_a_job(discord_fake, image_api, first, discord_fake.add_member())
    second = await start_bot(quota_member_daily_images=2)

    notice = await discord_fake.wait_for(lambda: retry_id(interaction.original) and interaction.original)
    assert "Press **Retry** to get the rest" in notice.text and "Making the other" not in notice.text
    [job] = await job_done(second, 1)
    assert (job.status, job.images_delivered) == ("partial", 1)
    assert len(image_api.requests) == 1
    entry = await second.store.journal.get(job.id)
    assert entry is not None and entry.retried_by is None, "the Retry button still works"


async def test_auto_resume_uses_the_servers_watermark_setting(discord_fake, image_api, start_bot) -> None:
    first = await start_bot()
    await admin_sets(discord_fake, "set", setting="watermark", value="on")
    interaction = await interrupt_a_job(discord_fake, image_api, first, discord_fake.add_member())
    second = await start_bot()

    [job] = await job_done(second, 1)
    assert (job.status, job.images_delivered) == ("completed", 3)
    assert "Making the other 2 now" in interaction.original.text
    assert [r.json["watermark"] for r in image_api.requests] == [True, True]


async def test_auto_resume_of_4k_once_the_server_disallowed_it_offers_retry_instead(
    discord_fake, image_api, start_bot
) -> None:
    first = await start_bot()
    member = discord_fake.add_member()
    interaction = await interrupt_a_job(discord_fake, image_api, first, member, resolution="4K")
    second = await start_bot(quota_allow_4k=False)  # the same rule a new start meets

    notice = await discord_fake.wait_for(lambda: retry_id(interaction.original) and interaction.original)
    assert "Press **Retry** to get the rest" in notice.text
    [job] = await job_done(second, 1)
    assert (job.status, job.images_delivered) == ("partial", 1) and len(image_api.requests) == 1


async def test_auto_resume_over_the_servers_daily_limit_offers_retry_instead(
    discord_fake, image_api, start_bot
) -> None:
    first = await start_bot()
    interaction = await interrupt_a_job(discord_fake, image_api, first, discord_fake.add_member())
    second = await start_bot(quota_guild_daily_images=2)

    notice = await discord_fake.wait_for(lambda: retry_id(interaction.original) and interaction.original)
    assert "Press **Retry** to get the rest" in notice.text
    [job] = await job_done(second, 1)
    assert (job.status, job.images_delivered) == ("partial", 1) and len(image_api.requests) == 1


async def test_auto_resume_of_an_exempt_members_job_ignores_their_daily_limit(
    discord_fake, image_api, start_bot
) -> None:
    first = await start_bot(quota_member_daily_images=2)
    vip = discord_fake.add_role("vip")
    await admin_sets(discord_fake, "exempt", role=vip)
    interaction = await interrupt_a_job(discord_fake, image_api, first, discord_fake.add_member(roles=[vip]))
    second = await start_bot(quota_member_daily_images=2)  # roles are not known to a takeover: admission's verdict

    [job] = await job_done(second, 1)
    assert (job.status, job.images_delivered) == ("completed", 3)
    assert "Making the other 2 now" in interaction.original.text
