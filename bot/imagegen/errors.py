"""Map image API error codes and HTTP statuses to typed, plain-words exceptions."""

from __future__ import annotations

import re
from typing import Any

from bot.errors import (
    ContentBlocked,
    ImageApiError,
    InvalidRequest,
    OwnerSetupError,
    RateLimited,
    ServiceUnavailable,
)
from bot.i18n import N_, _

_REQUEST_ID = re.compile(r"Request id:\s*([\w-]+)", re.IGNORECASE)

_BLOCKED_PROMPT = N_("The image service's safety filter blocked this prompt. Try rewording it.")
_BLOCKED_REFERENCE = N_("The image service's safety filter blocked one of the reference images.")
_BLOCKED_OUTPUT = N_("The image service's safety filter blocked the generated image. Trying again may work.")
_BLOCKED_GENERIC = N_("The image service's safety filter blocked this request.")
_INVALID = N_("The image service rejected the request's parameters.")
_INVALID_IMAGE = N_("The image service could not read one of the reference images.")
_AUTH = N_("The bot's image API key was rejected. The server owner needs to check IMAGE_API_KEY.")
_BILLING = N_("The image service refused the bot's account (billing or permissions). Please tell the server owner.")
_MODEL = N_("The configured image model is not available on this account. Please tell the server owner.")
_QUOTA = N_("The bot's image budget on the service is used up. Please tell the server owner.")
# Texts are marked here and translated when the error is made (the worker speaks the job's language).
# The same refusals when the job ran on its server's own key: that server's admins can fix them.
_OWN_KEY = {
    _AUTH: N_(
        "This server's image API key was rejected. A server admin can enter another with `/imagine-admin api-key`."
    ),
    _BILLING: N_(
        "The image service refused this server's account (billing or permissions). Please tell a server admin."
    ),
    _MODEL: N_("The image model is not available on this server's API account. Please tell a server admin."),
    _QUOTA: N_("This server's budget on the image service is used up. Please tell a server admin."),
}
_RATE = N_("The image service is busy right now (rate limited). Please try again in a minute.")
_UNAVAILABLE = N_("The image service is having trouble right now. Please try again in a few minutes.")

# (code prefix, exception type, message), first match wins; codes are compared case-sensitively.
_BY_CODE: tuple[tuple[str, type[ImageApiError], str], ...] = (
    ("InputTextSensitiveContentDetected", ContentBlocked, _BLOCKED_PROMPT),
    ("InputTextRiskDetection", ContentBlocked, _BLOCKED_PROMPT),
    ("InputImageSensitiveContentDetected", ContentBlocked, _BLOCKED_REFERENCE),
    ("InputImageRiskDetection", ContentBlocked, _BLOCKED_REFERENCE),
    ("OutputImageSensitiveContentDetected", ContentBlocked, _BLOCKED_OUTPUT),
    ("OutputImageRiskDetection", ContentBlocked, _BLOCKED_OUTPUT),
    ("SensitiveContentDetected", ContentBlocked, _BLOCKED_GENERIC),
    ("InvalidImageURL", InvalidRequest, _INVALID_IMAGE),
    ("MissingParameter", InvalidRequest, _INVALID),
    ("InvalidParameter", InvalidRequest, _INVALID),
    ("InvalidEndpointOrModel", OwnerSetupError, _MODEL),
    ("ModelNotOpen", OwnerSetupError, _MODEL),
    ("InvalidEndpoint", OwnerSetupError, _MODEL),
    ("AuthenticationError", OwnerSetupError, _AUTH),
    ("AccountOverdueError", OwnerSetupError, _BILLING),
    ("AccessDenied", OwnerSetupError, _BILLING),
    ("OperationDenied", OwnerSetupError, _BILLING),
    ("QuotaExceeded", OwnerSetupError, _QUOTA),
    ("SetLimitExceeded", OwnerSetupError, _QUOTA),
    ("InternalServiceError", ServiceUnavailable, _UNAVAILABLE),
)

_BY_STATUS: dict[int, tuple[type[ImageApiError], str]] = {
    400: (InvalidRequest, _INVALID),
    401: (OwnerSetupError, _AUTH),
    403: (OwnerSetupError, _BILLING),
    404: (OwnerSetupError, _MODEL),
    429: (RateLimited, _RATE),
}


def error_fields(body: Any) -> tuple[str, str]:
    """Return (code, message) from an error body in Ark or new-api shape; empty strings if absent."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("code") or ""), str(error.get("message") or "")
    if isinstance(error, str):
        return "", error
    return "", ""


def map_error(
    status: int | None,
    body: Any,
    *,
    request_id: str | None = None,
    retry_after: float | None = None,
    own_key: bool = False,
) -> ImageApiError:
    """Build the exception for an error response or a per-image error object (`own_key`: a server's own key)."""
    code, message = error_fields(body)
    if request_id is None:
        found = _REQUEST_ID.search(message)
        request_id = found[1] if found else None
    kind, text = _classify(status, code)
    if own_key:
        text = _OWN_KEY.get(text, text)
    return kind(_(text), code=code or None, status=status, request_id=request_id, retry_after=retry_after)


def blocked_reworded(error: ContentBlocked) -> ContentBlocked:
    """A safety-filter refusal written again in the current language (told privately: the member's language)."""
    kind, text = _classify(error.status, error.code)
    text = text if kind is ContentBlocked else _BLOCKED_GENERIC
    return ContentBlocked(_(text), code=error.code, status=error.status, request_id=error.request_id)


def _classify(status: int | None, code: str) -> tuple[type[ImageApiError], str]:
    for prefix, kind, text in _BY_CODE:
        if code.startswith(prefix):
            return kind, text
    if status == 429 or code.startswith(("RateLimitExceeded", "ServerOverloaded", "RequestBurstTooFast")):
        return RateLimited, _RATE
    if code.startswith(("ModelAccount", "AccountRateLimit", "InflightBatchsizeExceeded")):
        return RateLimited, _RATE
    if status is not None and status in _BY_STATUS:
        return _BY_STATUS[status]
    if status is not None and 400 <= status < 500:
        return InvalidRequest, _INVALID
    return ServiceUnavailable, _UNAVAILABLE


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form only); None if absent or unusable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
