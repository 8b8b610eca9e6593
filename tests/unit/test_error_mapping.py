"""Error bodies and statuses become typed errors with plain words."""

from __future__ import annotations

import pytest

from bot.errors import ContentBlocked, InvalidRequest, OwnerSetupError, RateLimited, ServiceUnavailable
from bot.imagegen.errors import map_error, parse_retry_after


def ark(code: str, message: str = "something. Request id: 0217abc-def") -> dict[str, object]:
    return {"error": {"code": code, "message": message, "param": "", "type": "BadRequest"}}


@pytest.mark.parametrize(
    ("status", "code", "kind", "words"),
    [
        (400, "InputTextSensitiveContentDetected", ContentBlocked, "prompt"),
        (400, "InputTextSensitiveContentDetected.PolicyViolation", ContentBlocked, "prompt"),
        (400, "InputImageSensitiveContentDetected.PrivacyInformation", ContentBlocked, "reference"),
        (400, "OutputImageSensitiveContentDetected.DeepFake", ContentBlocked, "generated"),
        (400, "InputTextRiskDetection", ContentBlocked, "prompt"),
        (400, "SensitiveContentDetected", ContentBlocked, "blocked"),
        (400, "InvalidParameter.Size", InvalidRequest, "parameters"),
        (400, "InvalidImageURL.InvalidFormat", InvalidRequest, "reference"),
        (401, "AuthenticationError", OwnerSetupError, "IMAGE_API_KEY"),
        (403, "AccountOverdueError", OwnerSetupError, "owner"),
        (404, "InvalidEndpointOrModel.NotFound", OwnerSetupError, "model"),
        (429, "QuotaExceeded", OwnerSetupError, "budget"),
        (429, "ModelAccountIpmRateLimitExceeded", RateLimited, "busy"),
        (429, "ServerOverloaded", RateLimited, "busy"),
        (500, "InternalServiceError", ServiceUnavailable, "trouble"),
    ],
)
def test_ark_codes(status: int, code: str, kind: type, words: str) -> None:
    error = map_error(status, ark(code))
    assert type(error) is kind
    assert words in error.message
    assert error.code == code
    assert error.request_id == "0217abc-def"
    assert "Request id" not in error.message


def test_retryable_only_for_transient_errors() -> None:
    assert map_error(429, ark("RateLimitExceeded.EndpointRPMExceeded")).retryable
    assert map_error(503, None).retryable
    assert map_error(502, {"error": {"message": "bad gateway", "type": "new_api_error", "code": ""}}).retryable
    assert not map_error(400, ark("InputTextSensitiveContentDetected")).retryable
    assert not map_error(400, ark("InvalidParameter")).retryable
    assert not map_error(401, ark("AuthenticationError")).retryable


def test_relay_errors_without_code_fall_back_to_status() -> None:
    relay = {"error": {"message": "No available channel for model", "type": "new_api_error", "code": ""}}
    assert type(map_error(503, relay)) is ServiceUnavailable
    assert type(map_error(401, relay)) is OwnerSetupError
    assert type(map_error(429, relay)) is RateLimited
    assert type(map_error(418, relay)) is InvalidRequest


def test_per_item_errors_have_no_status() -> None:
    error = map_error(None, {"error": {"code": "OutputImageSensitiveContentDetected", "message": "x"}})
    assert isinstance(error, ContentBlocked)


def test_raw_api_message_is_never_the_user_message() -> None:
    error = map_error(400, ark("InvalidParameter", "secret internals sk-123 Request id: r1"))
    assert "secret internals" not in error.message and "sk-123" not in str(error)


def test_retry_after_parsing() -> None:
    assert parse_retry_after("2.5") == 2.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is None
    assert parse_retry_after("-1") is None
    assert map_error(429, None, retry_after=3.0).retry_after == 3.0
