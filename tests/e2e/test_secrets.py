"""Secrets never reach the log output or anything the bot sends to Discord."""

from __future__ import annotations

import json
import logging

from tests.e2e.helpers import final_original
from tests.logcapture import capture_logs

WRONG_KEY = "sk-wrong-secret-0123456789abcdef"


def everything_sent(fake) -> str:
    """Every body (JSON and files' names/descriptions) the fake Discord received, as one string."""
    parts = []
    for request in fake.requests:
        parts.append(request.path + json.dumps(request.query))
        parts.append(json.dumps(request.json, ensure_ascii=False) if request.json is not None else "")
        parts.extend(f.filename for f in request.files)
    return "\n".join(parts)


async def test_rejected_key_is_never_logged_nor_shown(discord_fake, image_api, start_bot) -> None:
    secrets = [WRONG_KEY, discord_fake.token]
    with capture_logs(secrets, level=logging.DEBUG) as logs:
        await start_bot(image_api_key=WRONG_KEY)
        interaction = await discord_fake.slash(discord_fake.add_member(), "imagine", prompt="a cat")
        message = await final_original(discord_fake, interaction)
    assert "API key was rejected" in message.text
    assert image_api.requests[0].status == 401
    assert logs.lines("401"), "the refusal should be logged"
    for secret in secrets:
        assert secret not in logs.text
        assert secret not in everything_sent(discord_fake)
    assert "Traceback" not in message.text
