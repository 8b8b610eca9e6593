"""Exceptions whose message is safe to show to a Discord member.

A message is written in the current language when the error is made (`_("...")` at the raise): at admission
that is the member's language, in a worker's task the job's (the worker sets it), so whoever shows
`error.message` later shows it as is.
"""

from __future__ import annotations

from bot.i18n import _


class UserFacingError(Exception):
    """An error with a plain-words message meant for the member who asked."""

    code: str = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class BadInput(UserFacingError):
    """The member's request cannot be run as given (options, prompt, attachments)."""

    code = "bad_input"


class BadAttachment(BadInput):
    """A reference attachment is not a usable image."""

    code = "bad_attachment"


class ImageApiError(UserFacingError):
    """The image API refused or failed a request."""

    code = "api_error"
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.request_id = request_id
        self.retry_after = retry_after


class ContentBlocked(ImageApiError):
    """Moderation blocked the prompt, a reference image or an output image."""

    code = "content_blocked"


class InvalidRequest(ImageApiError):
    """The API rejected a parameter."""

    code = "invalid_request"


class OwnerSetupError(ImageApiError):
    """Key, billing, quota or model problem that only the bot's owner can fix."""

    code = "owner_setup"


class RateLimited(ImageApiError):
    """The API asked us to slow down."""

    code = "rate_limited"
    retryable = True


class ServiceUnavailable(ImageApiError):
    """The API or a relay failed on its side."""

    code = "service_unavailable"
    retryable = True


class ApiTimeout(ImageApiError):
    """No answer from the API in time."""

    code = "timeout"
    retryable = True


class ResultUnavailable(ImageApiError):
    """A generated image could not be downloaded (expired or too large)."""

    code = "result_unavailable"


class StoreFailed(UserFacingError):
    """The bot's database failed in the middle of a job (locked past its timeout, disk full, I/O error)."""

    code = "store_failed"

    def __init__(self) -> None:
        super().__init__(  # in the language of whoever is told: the member at admission, the job's in a worker
            _(
                "The bot's database stopped answering, so this request was stopped. Images already posted here "
                "are yours; nothing else is counted. Please try again in a few minutes."
            )
        )


class QueueFull(UserFacingError):
    """Too many jobs are already waiting; the member should try again shortly."""

    def __init__(self) -> None:
        super().__init__(
            _("The bot is busy right now and its queue is full. Please try again in a minute."), code="queue_full"
        )
