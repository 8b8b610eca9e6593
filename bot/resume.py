"""Journalling jobs and rebuilding interrupted ones, so a restart loses nothing (no Discord here)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.errors import BadInput
from bot.imaging import PreparedReference
from bot.store import JobRecord, NewJob
from bot.store.journal import Origin, StoredReference

if TYPE_CHECKING:
    from bot.jobs import JobRunner, PreparedJob


async def journal_job(runner: JobRunner, job: PreparedJob) -> int:
    """Create the job row and its journal entry (interaction token, references) before the API is called."""
    spec, store = job.spec, runner.store
    job_id = await store.create_job(
        NewJob(
            guild_id=spec.guild_id,
            channel_id=spec.channel_id,
            user_id=spec.user_id,
            prompt=spec.prompt,
            images_requested=spec.count,
            kind=spec.kind,
            params={
                "size": spec.size,
                "size_label": spec.size_label,
                "count": spec.count,
                "references": len(job.references),
                "watermark": job.request.watermark,
                **({"resumes": spec.resumes} if spec.resumes else {}),
            },
        )
    )
    references = [StoredReference(r.mime, r.width, r.height, r.data) for r in job.references]
    await store.journal.open(job_id, spec.origin or Origin(), references, resumes=spec.resumes)
    if spec.resumes:
        await store.journal.link_retry(spec.resumes, job_id)
    return job_id


async def rebuild(runner: JobRunner, record: JobRecord, origin: Origin | None = None) -> PreparedJob:
    """A new job for the images an interrupted job still owes (references from the journal)."""
    from bot.jobs import JobSpec, PreparedJob

    params = record.params
    stored = await runner.store.journal.references(record.id)
    if len(stored) < int(params.get("references", 0)):
        raise BadInput("The reference images of that request are no longer kept. Please run the command again.")
    remaining = record.images_requested - record.images_delivered
    if remaining <= 0:
        raise BadInput("That request already has all its images.")
    references = tuple(PreparedReference(r.data, r.mime, r.width, r.height) for r in stored)
    spec = JobSpec(
        user_id=record.user_id,
        guild_id=record.guild_id,
        channel_id=record.channel_id,
        prompt=record.prompt,
        count=remaining,
        size=str(params.get("size", "2K")),
        size_label=str(params.get("size_label", params.get("size", ""))),
        kind=record.kind,
        origin=origin,
        resumes=record.id,
    )
    runner.check(spec, references=len(references))
    return PreparedJob(spec, runner.request_for(spec, tuple(r.data_url() for r in references)), references)
