"""The optional Prometheus endpoint: off by default, serves the bot's counters when on."""

from __future__ import annotations

import aiohttp

from bot.metrics import start_metrics_server
from tests.e2e.helpers import final_original, job_done, until_queue
from tests.fakes.image_api import Fault


async def test_metrics_are_off_by_default(running_bot) -> None:
    assert running_bot.settings.metrics_port is None
    assert not running_bot.services.metrics.enabled


async def test_endpoint_serves_jobs_images_queue_and_latency(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(metrics_port=9999)  # the port is only a switch here; the test binds a free one
    server = await start_metrics_server(harness.services.metrics, "127.0.0.1", 0)
    try:
        user = discord_fake.add_member()
        await final_original(discord_fake, await discord_fake.slash(user, "imagine", prompt="two owls", count=2))
        image_api.script(Fault.content_blocked())
        await discord_fake.slash(user, "imagine", prompt="blocked")  # told privately: no final public message
        await job_done(harness, 2)
        port = server.addresses[0][1]
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as response:
            assert response.status == 200
            text = await response.text()
    finally:
        await server.cleanup()
    assert 'imagine_jobs_total{status="completed"} 1.0' in text
    assert 'imagine_jobs_total{status="blocked"} 1.0' in text
    assert "imagine_images_delivered_total 2.0" in text
    assert "imagine_queue_length 0.0" in text
    assert 'imagine_api_seconds_count{phase="first_image"} 1.0' in text
    assert 'imagine_api_seconds_count{phase="error"} 1.0' in text


async def test_queue_length_is_the_deployments_waiting_jobs(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(max_concurrent_jobs=1, metrics_port=65530, lease_seconds=3)
    image_api.image_delay = 2.0
    for n in range(3):  # one runs, two wait
        await discord_fake.slash(discord_fake.add_member(), "imagine", prompt=f"owl {n}")
    await until_queue(harness, 1, 2)
    metrics = harness.services.metrics
    await discord_fake.wait_for(lambda: b"imagine_queue_length 2.0" in metrics.exposition(), timeout=5)
