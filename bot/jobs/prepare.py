"""Instant checks of a spec, and its preparation: references decoded and fitted (in threads), request validated."""

from __future__ import annotations

import asyncio
import json

from pydantic import ValidationError

from bot.cpu import run_cpu
from bot.decode_pool import prepare_untrusted
from bot.errors import BadInput
from bot.imagegen.models import MAX_PROMPT_CHARS, MAX_REFERENCES, MAX_TOTAL_IMAGES, GenerationRequest
from bot.imaging import PreparedReference
from bot.jobs.model import JobSpec, PreparedJob
from bot.settings import Settings
from bot.textclean import api_text


def check(spec: JobSpec, *, references: int | None = None) -> None:
    """Instant checks that need no I/O; raise BadInput before the interaction is acknowledged."""
    refs = len(spec.references) if references is None else references
    prompt = api_text(spec.prompt)
    if not prompt:
        raise BadInput("The prompt is empty. Describe the image you want.")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise BadInput(f"The prompt is {len(prompt)} characters long; the limit is {MAX_PROMPT_CHARS}.")
    if not 1 <= spec.count <= MAX_TOTAL_IMAGES:
        raise BadInput(f"The number of images must be between 1 and {MAX_TOTAL_IMAGES}.")
    if refs > MAX_REFERENCES:
        raise BadInput(f"At most {MAX_REFERENCES} reference images can be used.")
    if refs + spec.count > MAX_TOTAL_IMAGES:
        raise BadInput(
            f"Reference images plus requested images can be at most {MAX_TOTAL_IMAGES} "
            f"({refs} references + {spec.count} images). Ask for fewer images."
        )


async def prepare(settings: Settings, spec: JobSpec, *, encode: bool = True) -> PreparedJob:
    """Decode and fit the references (in threads) and validate the request.

    Without `encode` the request carries no base64 copies of the references (megabytes each): for a job that is
    queued, whose worker encodes its stored references when it sends the request. Only the URLs of
    REFERENCE_MODE=url, which the queue keeps, are in it then.
    """
    check(spec)
    side = settings.reference_max_side
    prepared = tuple(
        await asyncio.gather(*(prepare_untrusted(ref.data, ref.name, max_side=side) for ref in spec.references))
    )
    use_urls = settings.reference_mode == "url"
    if not encode:
        urls = tuple(ref.url for ref in spec.references if use_urls and ref.url)
        return PreparedJob(spec, request_for(settings, spec, urls if len(urls) == len(prepared) else ()), prepared)
    refs = tuple(
        await asyncio.gather(
            *(
                _as_is(ref.url) if use_urls and ref.url else run_cpu(image.data_url)
                for ref, image in zip(spec.references, prepared, strict=True)
            )
        )
    )
    return PreparedJob(spec, request_for(settings, spec, refs), prepared)


async def prepared_from(settings: Settings, spec: JobSpec, references: tuple[PreparedReference, ...]) -> PreparedJob:
    """A job whose references are already prepared (kept in the journal), for Retry and auto-resume."""
    check(spec, references=len(references))
    urls = tuple(await asyncio.gather(*(run_cpu(r.data_url) for r in references)))  # base64 off the loop
    return PreparedJob(spec, request_for(settings, spec, urls), references)


def request_for(settings: Settings, spec: JobSpec, refs: tuple[str, ...]) -> GenerationRequest:
    """The API request for a spec whose references are already encoded."""
    try:
        return GenerationRequest(
            model=settings.image_model,
            prompt=api_text(spec.prompt),
            references=refs,
            size=spec.size,
            count=spec.count,
            watermark=settings.watermark if spec.watermark is None else spec.watermark,
            stream=settings.stream,
            response_format=settings.response_format,
            optimize_prompt_mode=settings.optimize_prompt_mode,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise BadInput(f"That request is not valid: {first['msg']}.") from exc


async def _as_is(value: str) -> str:
    return value


def stored_params(prepared: PreparedJob, *, preface: str | None, buttons: bool) -> str:
    """What the queue keeps about a prepared job (JSON), so that any worker can make and deliver it."""
    spec, request = prepared.spec, prepared.request
    params: dict[str, object] = {
        "size": spec.size,
        "size_label": spec.size_label,
        "count": spec.count,
        "references": len(prepared.references),
        "watermark": request.watermark,
        "buttons": buttons,
    }
    if spec.resumes:
        params["resumes"] = spec.resumes
    if preface:
        params["preface"] = preface
    urls = list(request.references)
    if urls and all(url.startswith(("http://", "https://")) for url in urls):
        params["reference_urls"] = urls  # REFERENCE_MODE=url: the API fetches them itself
    return json.dumps(params, sort_keys=True)
