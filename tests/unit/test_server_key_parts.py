"""The parts behind servers' own keys: sealing, the base-URL fences, log masking, settings."""

from __future__ import annotations

import logging

import pytest
from pydantic import ValidationError

from bot.imagegen.client import ApiEndpoint
from bot.imagegen.egress import BlockedAddress, Egress, NotAllowed, PublicResolver, is_public
from bot.keybox import KeyBox, OpenKey, Unreadable
from bot.logs import mask_also
from bot.server_keys import clean_key
from bot.settings import Settings, describe_validation_error
from bot.store.keys import StoredKey
from tests.logcapture import capture_logs

SECRET = "unit-secret-key-0123456789-abcdefghijklmnop"
KEY = "sk-unit-test-key-0123456789abcdef"
OPERATOR = "http://127.0.0.1:8080"


async def test_a_sealed_key_opens_only_for_its_server_and_its_secret() -> None:
    box = KeyBox(SECRET)
    sealed = await box.seal(7, OpenKey(KEY, "https://relay.example/v1"))
    assert KEY not in sealed and "relay.example" not in sealed
    assert await box.open(7, sealed) == OpenKey(KEY, "https://relay.example/v1")
    with pytest.raises(Unreadable):
        await box.open(8, sealed)  # a row copied onto another server's row
    with pytest.raises(Unreadable):
        await KeyBox("a-different-secret-key-0123456789-abcdef").open(7, sealed)
    with pytest.raises(Unreadable):
        await KeyBox(None).open(7, sealed)
    with pytest.raises(Unreadable):
        await box.open(7, sealed[:-4] + "AAAA")  # tampered


def test_reprs_never_show_a_key() -> None:
    shown = [
        repr(OpenKey(KEY, None)),
        repr(ApiEndpoint("https://relay.example/v1", KEY, own=True)),
        repr(StoredKey(1, "sealed-" + KEY, KEY[-4:], None, 2, 3.0)),
        repr(KeyBox(SECRET)),
    ]
    assert not any(KEY in text or SECRET in text for text in shown), shown


@pytest.mark.parametrize("raw", ["short", "sk with spaces inside 0123456789", "sk-ключ-0123456789abcdef", "x" * 257])
def test_what_does_not_look_like_a_key_is_refused_without_quoting_it(raw: str) -> None:
    with pytest.raises(Exception) as info:
        clean_key(raw)
    assert raw not in str(info.value)


def test_a_key_is_trimmed() -> None:
    assert clean_key(f"  {KEY}\n") == KEY


def egress(*extra: str) -> Egress:
    return Egress(frozenset({OPERATOR, *extra}))


@pytest.mark.parametrize(
    "url",
    [
        "http://relay.example/v1",
        "https://10.1.2.3/v1",
        "https://192.168.1.1/v1",
        "https://127.0.0.2/v1",
        "https://[::1]/v1",
        "https://[fd00::1]/v1",
        "https://100.64.0.1/v1",
        "https://169.254.169.254/",
        "https://0.0.0.0/v1",
        "https://localhost/v1",
        "https://printer.local/v1",
        "https://metadata.google.internal/v1",
        "https://intranet/v1",
        "https://me:pw@relay.example/v1",
        "https://relay.example/v1#frag",
        "ftp://relay.example/v1",
        "https://relay.example:99999/v1",
        "https://relay.example/" + "x" * 300,
    ],
)
def test_base_urls_into_the_operators_network_are_refused(url: str) -> None:
    with pytest.raises(NotAllowed):
        egress().check_base_url(url)


def test_public_https_and_the_operators_allowed_origins_pass() -> None:
    fences = egress("http://relay.lan:8080")
    assert fences.check_base_url(" https://ark.ap-southeast.bytepluses.com/api/v3/ ") == (
        "https://ark.ap-southeast.bytepluses.com/api/v3"
    )
    assert fences.check_base_url("https://8.8.8.8/v1") == "https://8.8.8.8/v1"
    assert fences.check_base_url(f"{OPERATOR}/v1") == f"{OPERATOR}/v1"  # IMAGE_API_BASE_URL's own origin
    assert fences.check_base_url("http://relay.lan:8080/v1") == "http://relay.lan:8080/v1"  # SERVER_API_ORIGINS
    with pytest.raises(NotAllowed):
        fences.check_base_url("http://relay.lan:8081/v1")  # another port is another origin


def test_result_urls_of_a_servers_service_are_checked_too() -> None:
    fences = egress()
    assert fences.fetchable("https://cdn.example/x.jpeg?sig=1")
    assert fences.fetchable("http://cdn.example/x.jpeg")  # plain http to a public host leaks nothing inward
    assert fences.fetchable(f"{OPERATOR}/results/a.jpeg")
    assert not fences.fetchable("http://169.254.169.254/latest/meta-data")
    assert not fences.fetchable("http://[::ffff:127.0.0.1]:8080/x")


@pytest.mark.parametrize(
    ("address", "public"),
    [("8.8.8.8", True), ("2606:4700::1111", True), ("10.0.0.1", False), ("::ffff:192.168.0.1", False)],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public(address) is public


async def test_the_resolver_drops_addresses_inside_unless_the_operator_allowed_the_host() -> None:
    guarded = PublicResolver(frozenset({("localhost", 8080)}))
    try:
        with pytest.raises(BlockedAddress):
            await guarded.resolve("localhost", 443)
        assert await guarded.resolve("localhost", 8080)
    finally:
        await guarded.close()


def test_a_key_learned_at_run_time_is_masked_in_every_log_line() -> None:
    learned = "sk-learned-at-run-time-5f4e3d2c1b"
    with capture_logs(level=logging.DEBUG) as logs:
        mask_also(learned)
        logging.getLogger("bot.test").debug("sending %s to the relay", learned)
    assert learned not in logs.text and "[redacted]" in logs.text


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, discord_token="t" * 8, **values)  # type: ignore[arg-type]


def test_image_api_key_is_optional_only_when_servers_must_bring_their_own() -> None:
    with pytest.raises(ValidationError) as info:
        settings()
    assert "IMAGE_API_KEY: is required" in describe_validation_error(info.value)
    required = settings(require_server_key=True, secret_key=SECRET)
    assert required.operator_key is None and required.image_api_key is None


def test_require_server_key_needs_a_long_enough_secret_key() -> None:
    with pytest.raises(ValidationError) as info:
        settings(require_server_key=True)
    assert "SECRET_KEY: is required with REQUIRE_SERVER_KEY=true" in describe_validation_error(info.value)
    with pytest.raises(ValidationError) as info:
        settings(image_api_key="k" * 8, secret_key="too-short")
    message = describe_validation_error(info.value)
    assert "SECRET_KEY" in message and "at least 32" in message and "too-short" not in message


def test_server_api_origins_are_normalised() -> None:
    values = settings(image_api_key="k" * 8, server_api_origins=["http://Relay.LAN:8080/v1", "https://r.example"])
    assert values.server_api_origins == ["http://relay.lan:8080", "https://r.example:443"]
    with pytest.raises(ValidationError):
        settings(image_api_key="k" * 8, server_api_origins=["relay.lan"])


def test_secret_values_cover_every_secret_setting() -> None:
    values = settings(image_api_key="k" * 8, secret_key=SECRET, database_url="postgresql://u:pw-9@db/x")
    assert set(values.secret_values) >= {"t" * 8, "k" * 8, SECRET, "pw-9"}


async def test_a_burst_of_admissions_reads_a_servers_key_once(tmp_path) -> None:
    import asyncio

    import aiohttp

    from bot.server_keys import ServerKeyMissing, ServerKeys
    from bot.store import UsageStore

    store = await UsageStore.open(tmp_path / "bot.db")
    values = settings(require_server_key=True, secret_key=SECRET, database_url=f"sqlite:///{tmp_path / 'bot.db'}")
    reads: list[int] = []
    get = store.keys.get

    async def counted(guild_id: int):  # type: ignore[no-untyped-def]
        reads.append(guild_id)
        return await get(guild_id)

    store.keys.get = counted  # type: ignore[method-assign]
    try:
        async with aiohttp.ClientSession() as http:
            keys = ServerKeys(values, store, http)
            outcomes = await asyncio.gather(*(keys.admit(5, manager=False) for _ in range(50)), return_exceptions=True)
            assert all(isinstance(o, ServerKeyMissing) for o in outcomes) and reads == [5]
            await keys.remove(5, by=1)  # a change made here is seen by the next admission at once
            with pytest.raises(ServerKeyMissing):
                await keys.admit(5, manager=False)
            assert reads == [5, 5]
            await keys.close()
    finally:
        await store.close()
