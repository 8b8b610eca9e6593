"""Memory: a job holds its references only until its request is sent."""

from __future__ import annotations

from bot.imagegen.models import GenerationRequest
from bot.imaging import PreparedReference
from bot.jobs.model import JobSpec, PreparedJob


def test_a_prepared_job_hands_its_references_over_with_its_request() -> None:
    url = "data:image/jpeg;base64," + "A" * 1000
    request = GenerationRequest(model="doubao-seedream-4-0-250828", prompt="a cat", references=(url,))
    job = PreparedJob(
        JobSpec(user_id=1, guild_id=2, channel_id=3, prompt="a cat", count=1, size="2K", size_label="2K"),
        request,
        (PreparedReference(b"x", "image/jpeg", 1, 1),),
    )
    sent = job.take_request()
    assert sent.references == (url,)
    assert job.request.references == () and job.references == ()
    assert job.request.prompt == "a cat" and job.request.watermark == request.watermark
