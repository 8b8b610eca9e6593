"""A server's key where jobs run away from the command: worker processes, takeover after a crash, Retry; and the
real process's DEBUG log of a run on a server's key."""

from __future__ import annotations

import signal

from tests.e2e.helpers import final_original, job_done
from tests.e2e.key_helpers import SECRET, SERVER_KEY, enter_key
from tests.e2e.process import BotProcess
from tests.e2e.test_recovery import RETRY, interrupt_a_job, retry_id


async def test_a_worker_process_uses_the_servers_key_and_so_does_the_one_taking_over(
    discord_fake, image_api, start_bot, postgres_url, tmp_path
) -> None:
    image_api.accept_key(SERVER_KEY)
    common = {"database_url": postgres_url, "secret_key": SECRET, "lease_seconds": 3}
    gateway = await start_bot(**common)
    assert gateway.bot is not None
    await gateway.bot.worker.stop()  # this process only serves commands: the worker processes run the jobs
    await enter_key(discord_fake, discord_fake.add_member(manage_guild=True), SERVER_KEY)
    workers = [
        BotProcess(tmp_path, discord_fake, image_api, worker=True, log_level="DEBUG", **common) for _ in range(2)
    ]
    try:
        await workers[0].start()
        image_api.image_delay = 0.4
        interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="three owls", count=3)
        await discord_fake.wait_for(lambda: interaction.original and interaction.original.attachments, timeout=20)
        workers[0].send(signal.SIGKILL)  # a crash in the middle of the job
        await workers[0].wait()
        image_api.image_delay = 0.0
        await workers[1].start()  # takes the job over once its lease has run out
        message = await discord_fake.wait_for(
            lambda: interaction.original if "Making the other" in (interaction.original.text or "") else None,
            timeout=30,
        )
        await discord_fake.wait_for(
            lambda: len(message.attachments) + sum(len(m.attachments) for m in interaction.followups) == 3, timeout=30
        )
    finally:
        for worker in workers:
            await worker.stop()
    calls = image_api.requests[1:]  # after the probe
    assert len(calls) == 2 and [r.key for r in calls] == [SERVER_KEY, SERVER_KEY]
    for worker in workers:
        assert "job 1" in worker.log() and SERVER_KEY not in worker.log() and SECRET not in worker.log()


async def test_a_taken_over_job_of_the_server_continues_on_its_key(discord_fake, image_api, start_bot) -> None:
    image_api.accept_key(SERVER_KEY)
    first = await start_bot(secret_key=SECRET)
    await enter_key(discord_fake, discord_fake.add_member(manage_guild=True), SERVER_KEY)
    await interrupt_a_job(discord_fake, image_api, first, discord_fake.add_member())
    second = await start_bot(secret_key=SECRET)
    [job] = await job_done(second, 1)
    assert (job.status, job.images_delivered, job.attempts) == ("completed", 3, 2)
    assert [r.key for r in image_api.requests] == [SERVER_KEY] * 3  # probe, first run, the rest


async def test_retry_runs_on_the_servers_key(discord_fake, image_api, start_bot) -> None:
    image_api.accept_key(SERVER_KEY)
    first = await start_bot(secret_key=SECRET)
    await enter_key(discord_fake, discord_fake.add_member(manage_guild=True), SERVER_KEY)
    alice = discord_fake.add_member("alice")
    interaction = await interrupt_a_job(discord_fake, image_api, first, alice)
    second = await start_bot(secret_key=SECRET, **RETRY)
    notice = await discord_fake.wait_for(lambda: retry_id(interaction.original) and interaction.original)
    click = await discord_fake.click(alice, notice, retry_id(notice))
    await job_done(second, 2)
    assert len(click.original.attachments) == 2
    assert [r.key for r in image_api.requests] == [SERVER_KEY] * 3  # probe, first run, the Retry


async def test_the_debug_log_of_a_run_on_a_servers_key_does_not_hold_it(discord_fake, image_api, tmp_path) -> None:
    image_api.accept_key(SERVER_KEY)
    bot = BotProcess(tmp_path, discord_fake, image_api, log_level="DEBUG", secret_key=SECRET, progress_interval=0.2)
    try:
        await bot.start()
        saved = await enter_key(discord_fake, discord_fake.add_member(manage_guild=True), SERVER_KEY)
        assert "Saved" in saved
        interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="a debug-logged fox")
        result = await final_original(discord_fake, interaction)
        bot.send(signal.SIGTERM)
        assert await bot.wait() == 0
    finally:
        await bot.stop()
    assert len(result.attachments) == 1 and image_api.requests[-1].key == SERVER_KEY
    log = bot.log()
    assert "DEBUG" in log and "probe of a new API key" in log
    leaked = [name for name, value in {"server key": SERVER_KEY, "secret key": SECRET}.items() if value in log]
    assert leaked == [], "\n".join(line for line in log.splitlines() if SERVER_KEY in line or SECRET in line)
