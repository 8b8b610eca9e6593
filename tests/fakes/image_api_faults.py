"""Scripted faults and Ark-style error bodies for the fake image API."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

_STATUS_TYPES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


class FaultKind(enum.Enum):
    """What a scripted fault does to the request that consumes it."""

    STATUS = "status"
    ITEM_FAILED = "item_failed"
    INTERNAL_ERROR_AT = "internal_error_at"
    HANG = "hang"
    EXPIRED_URLS = "expired_urls"
    STREAM_ERROR_AFTER = "stream_error_after"


@dataclass(frozen=True)
class Fault:
    """One scripted misbehaviour, consumed by one accepted generation request."""

    kind: FaultKind
    status_code: int = 200
    code: str = ""
    index: int = 0
    retry_after: float | None = None
    new_api_style: bool = False

    @classmethod
    def status(
        cls,
        code: int,
        error_code: str = "InternalServiceError",
        *,
        retry_after: float | None = None,
        new_api_style: bool = False,
    ) -> Fault:
        """Answer with HTTP `code` and an error body (Retry-After header when given)."""
        return cls(
            FaultKind.STATUS,
            status_code=code,
            code=error_code,
            retry_after=retry_after,
            new_api_style=new_api_style,
        )

    @classmethod
    def content_blocked(cls, code: str = "InputTextSensitiveContentDetected") -> Fault:
        """Reject the prompt with a 400 moderation error."""
        return cls.status(400, code)

    @classmethod
    def item_failed(cls, index: int, code: str = "OutputImageSensitiveContentDetected") -> Fault:
        """Fail image `index` of the set; the other images still succeed."""
        return cls(FaultKind.ITEM_FAILED, index=index, code=code)

    @classmethod
    def internal_error_at(cls, index: int) -> Fault:
        """Fail image `index` with InternalServiceError and stop the set there."""
        return cls(FaultKind.INTERNAL_ERROR_AT, index=index, code="InternalServiceError")

    @classmethod
    def hang(cls) -> Fault:
        """Accept the request and never answer."""
        return cls(FaultKind.HANG)

    @classmethod
    def expired_urls(cls) -> Fault:
        """Make the result URLs of this request answer 403 when fetched."""
        return cls(FaultKind.EXPIRED_URLS)

    @classmethod
    def stream_error_after(cls, n: int) -> Fault:
        """Stream `n` images, then an error frame (a plain 500 when not streaming)."""
        return cls(FaultKind.STREAM_ERROR_AFTER, index=n, code="InternalServiceError")


class ApiError(Exception):
    """An error answered as a non-2xx JSON body."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        param: str = "",
        retry_after: float | None = None,
        new_api_style: bool = False,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.param = param
        self.retry_after = retry_after
        self.new_api_style = new_api_style

    @classmethod
    def invalid(cls, param: str, message: str) -> ApiError:
        """A 400 InvalidParameter naming `param`."""
        return cls(400, "InvalidParameter", message, param=param)

    @classmethod
    def from_fault(cls, fault: Fault) -> ApiError:
        """The error a STATUS fault answers with."""
        return cls(
            fault.status_code,
            fault.code,
            default_message(fault.code),
            retry_after=fault.retry_after,
            new_api_style=fault.new_api_style,
        )

    def body(self, request_id: str) -> dict[str, Any]:
        """The JSON error body, Ark style or new-api relay style."""
        if self.new_api_style:
            message = f"{self.message} (request id: {request_id})"
            return {"error": {"message": message, "type": "new_api_error", "code": ""}}
        return {
            "error": {
                "code": self.code,
                "message": f"{self.message} Request id: {request_id}",
                "param": self.param,
                "type": _STATUS_TYPES.get(self.status, "BadRequest"),
            }
        }

    def headers(self) -> dict[str, str]:
        """Extra response headers (Retry-After)."""
        if self.retry_after is None:
            return {}
        return {"Retry-After": f"{self.retry_after:g}"}


def default_message(code: str) -> str:
    """A plausible message for an error code."""
    if code.startswith("RateLimit") or code.endswith("RateLimitExceeded"):
        return "The request rate has exceeded the limit. Please try again later."
    if "SensitiveContent" in code or "RiskDetection" in code:
        return "The request failed because the content may contain sensitive information."
    if code == "InternalServiceError":
        return "The service encountered an unexpected internal error."
    if code == "AuthenticationError":
        return "The API key or AK/SK in the request is missing or invalid."
    return f"The request failed with {code}."


def item_error(code: str) -> dict[str, str]:
    """The `{code, message}` of a failed item of a set."""
    return {"code": code, "message": default_message(code)}
