"""The real bot at LOG_LEVEL=DEBUG: nothing secret in its log, whichever library logs it."""

from __future__ import annotations

import base64
import signal

from tests.e2e.helpers import final_original
from tests.e2e.process import BotProcess

PROMPT = "a very private prompt about zebras"


async def test_debug_log_holds_no_token_prompt_or_image(discord_fake, image_api, tmp_path) -> None:
    bot = BotProcess(tmp_path, discord_fake, image_api, log_level="DEBUG", progress_interval=0.2)
    try:
        await bot.start()
        interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt=PROMPT)
        result = await final_original(discord_fake, interaction)
        bot.send(signal.SIGTERM)
        assert await bot.wait() == 0
    finally:
        await bot.stop()
    log = bot.log()
    assert "PyNaCl" not in log and "voice will NOT" not in log
    assert "DEBUG" in log  # the level took effect
    image = result.attachments[0].data
    secrets = {
        "bot token": discord_fake.token,
        "interaction token": interaction.token,
        "api key": "fake-api-key",
        "prompt": PROMPT,
        "image bytes": base64.b64encode(image[:48]).decode(),
    }
    leaked = [name for name, secret in secrets.items() if secret in log]
    assert leaked == [], "\n".join(line for line in log.splitlines() if any(s in line for s in secrets.values()))
