"""Instant checks of a spec, and its preparation: references decoded and fitted (in threads), request validated."""

from __future__ import annotations

import asyncio
import json
from typing import Literal

from pydantic import ValidationError

from bot.cpu import run_cpu
from bot.decode_pool import prepare_untrusted
from bot.errors import BadInput
from bot.i18n import _, either, ngettext, number
from bot.imagegen.catalog import Catalog, Model, resolution_of
from bot.imagegen.models import MAX_PROMPT_CHARS, MAX_TOTAL_IMAGES, GenerationRequest
from bot.imaging import ImageRefused, PreparedReference
from bot.jobs.model import JobSpec, PreparedJob
from bot.settings import Settings
from bot.textclean import api_text


def check(spec: JobSpec, catalog: Catalog, *, references: int | None = None) -> Model:
    """Instant checks that need no I/O, against the job's model: raise BadInput before the interaction is
    acknowledged, so that a choice the model cannot do is never sent. Returns the model."""
    refs = len(spec.references) if references is None else references
    prompt = api_text(spec.prompt)
    if not prompt:
        raise BadInput(_("The prompt is empty. Describe the image you want."))
    if len(prompt) > MAX_PROMPT_CHARS:
        raise BadInput(
            _("The prompt is {length} characters long; the limit is {limit}.").format(
                length=len(prompt),
                limit=MAX_PROMPT_CHARS,  # character counts: no grouping
            )
        )
    model = catalog.get(spec.model)
    if not catalog.offers(model.id):
        names = either([m.name for m in catalog.offered])
        raise BadInput(
            _("{model} is not offered here (any more). Choose {models}.").format(model=model.name, models=names)
        )
    if not 1 <= spec.count <= MAX_TOTAL_IMAGES:
        raise BadInput(_("The number of images must be between 1 and {most}.").format(most=number(MAX_TOTAL_IMAGES)))
    if spec.count > 1 and not model.sets:
        raise BadInput(_("{model} makes one image per request; ask for 1 image.").format(model=model.name))
    if refs > model.max_references:
        raise BadInput(
            ngettext(
                "{model} takes at most {most} reference image; you gave {count}.",
                "{model} takes at most {most} reference images; you gave {count}.",
                model.max_references,
            ).format(model=model.name, most=number(model.max_references), count=number(refs))
        )
    if refs + spec.count > MAX_TOTAL_IMAGES:
        raise BadInput(
            _(
                "Reference images plus requested images can be at most {most} "
                "({references} references + {count} images). Ask for fewer images."
            ).format(most=number(MAX_TOTAL_IMAGES), references=number(refs), count=number(spec.count))
        )
    _check_size(spec.size, model, catalog)
    _check_extras(spec, model, catalog)
    return model


def _check_size(size: str, model: Model, catalog: Catalog) -> None:
    problem = model.size_problem(size)
    if problem is None:
        return
    resolution = resolution_of(size)
    others = [m.name for m in catalog.offered if resolution in m.resolutions] if resolution else []
    if not resolution:
        raise BadInput(problem)
    if others:
        hint = _("Choose {resolutions}, or {models}.").format(
            resolutions=either(model.resolutions), models=either(others)
        )
    else:
        hint = _("Choose {resolutions}.").format(resolutions=either(model.resolutions))
    raise BadInput(f"{problem} {hint}")


def _check_extras(spec: JobSpec, model: Model, catalog: Catalog) -> None:
    """Output format and tools: only where the model has them."""
    fmt = spec.output_format
    if fmt is not None and fmt not in (model.output_formats or ("jpeg",)):
        others = [m.name for m in catalog.with_format(fmt)]
        if others:
            text = _("{model} makes JPEG images only; {format} needs {models}.")
        else:
            text = _("{model} makes JPEG images only; {format} is not offered here.")
        raise BadInput(text.format(model=model.name, format=fmt.upper(), models=either(others)))
    if spec.web_search and "web_search" not in model.tools:
        others = [m.name for m in catalog.with_tool("web_search")]
        if others:
            text = _("{model} cannot search the web; it needs {models}.")
        else:
            text = _("{model} cannot search the web; no model offered here has it.")
        raise BadInput(text.format(model=model.name, models=either(others)))


async def prepare(settings: Settings, spec: JobSpec, *, encode: bool = True) -> PreparedJob:
    """Decode and fit the references (in threads) and validate the request.

    Without `encode` the request carries no base64 copies of the references (megabytes each): for a job that is
    queued, whose worker encodes its stored references when it sends the request. Only the URLs of
    REFERENCE_MODE=url, which the queue keeps, are in it then.
    """
    check(spec, settings.catalog)
    side = settings.reference_max_side
    try:
        prepared = tuple(
            await asyncio.gather(*(prepare_untrusted(ref.data, ref.name, max_side=side) for ref in spec.references))
        )
    except ImageRefused as refused:  # written in a decoder process, which does not know the member's language
        raise refused.again() from None
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
    check(spec, settings.catalog, references=len(references))
    urls = tuple(await asyncio.gather(*(run_cpu(r.data_url) for r in references)))  # base64 off the loop
    return PreparedJob(spec, request_for(settings, spec, urls), references)


def request_for(settings: Settings, spec: JobSpec, refs: tuple[str, ...]) -> GenerationRequest:
    """The API request for a spec whose references are already encoded; only fields its model has are sent."""
    model = settings.catalog.get(spec.model)
    mode = settings.optimize_prompt_mode
    output: Literal["jpeg", "png"] | None = None  # `output_format` only for models that have it (5.0 Lite)
    if model.output_formats:
        output = "png" if spec.output_format == "png" else "jpeg"
    try:
        return GenerationRequest(
            model=model.id,
            prompt=api_text(spec.prompt),
            references=refs,
            size=spec.size,
            count=spec.count,
            watermark=settings.watermark if spec.watermark is None else spec.watermark,
            stream=settings.stream and model.streaming,
            response_format=settings.response_format,
            optimize_prompt_mode=mode if mode in model.prompt_modes else None,  # `fast` only where it exists
            output_format=output,
            tools=("web_search",) if spec.web_search else (),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise BadInput(_("That request is not valid: {problem}.").format(problem=first["msg"])) from exc


async def _as_is(value: str) -> str:
    return value


def admitted_params(spec: JobSpec, references: int) -> str:
    """What the job's row shows of it from its admission until it is queued (or if it never is): /job reads it."""
    params = {"size": spec.size, "size_label": spec.size_label, "count": spec.count, "references": references}
    return json.dumps(params, sort_keys=True)


def stored_params(
    prepared: PreparedJob, *, preface: str | None, buttons: bool, member_language: str | None = None
) -> str:
    """What the queue keeps about a prepared job (JSON), so that any worker can make and deliver it."""
    spec, request = prepared.spec, prepared.request
    params: dict[str, object] = {
        "size": spec.size,
        "size_label": spec.size_label,
        "count": spec.count,
        "references": len(prepared.references),
        "watermark": request.watermark,
        "buttons": buttons,
        "model": request.model,
    }
    if spec.output_format:
        params["output_format"] = spec.output_format
    if spec.web_search:
        params["web_search"] = True
    if spec.resumes:
        params["resumes"] = spec.resumes
    if preface:
        params["preface"] = preface
    if member_language:
        params["member_language"] = member_language  # what only the requester is told (a blocked prompt)
    urls = list(request.references)
    if urls and all(url.startswith(("http://", "https://")) for url in urls):
        params["reference_urls"] = urls  # REFERENCE_MODE=url: the API fetches them itself
    return json.dumps(params, sort_keys=True)
