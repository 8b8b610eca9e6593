"""Configuration from environment variables and an optional `.env` file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, PrivateAttr, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.imagegen.catalog import Catalog

DISCORD_DEFAULT_API = "https://discord.com/api/v10"
ARK_DEFAULT_API = "https://ark.cn-beijing.volces.com/api/v3"
# Discord's CDN, and its external-media proxy (link previews' images are served from there).
DISCORD_CDN_HOSTS = (
    "cdn.discordapp.com",
    "media.discordapp.net",
    "images-ext-1.discordapp.net",
    "images-ext-2.discordapp.net",
)
MIN_SECRET_KEY = 32
_MAX_SHARD_RANGE = 100_000
_SHARD_PART = re.compile(r"(?P<first>\d+)(?:\s*-\s*(?P<last>\d+))?")


class Settings(BaseSettings):
    """Every knob of the bot; the environment variable is the field name in upper case."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    discord_token: SecretStr
    discord_api_base_url: str = DISCORD_DEFAULT_API
    image_api_base_url: str = ARK_DEFAULT_API
    # Servers' own API keys (issue 11): stored encrypted with a key derived from SECRET_KEY. With
    # REQUIRE_SERVER_KEY every server must bring its own, and IMAGE_API_KEY (then used for DMs only) is optional.
    require_server_key: bool = False
    image_api_key: SecretStr | None = Field(default=None, validate_default=True)
    secret_key: SecretStr | None = Field(default=None, validate_default=True)
    server_api_origins: list[str] = Field(default_factory=list)  # private or plain-http origins servers may use
    image_model: str = "doubao-seedream-4-0-250828"  # the default model (unset with IMAGE_MODELS: its first)
    image_models: list[str] = Field(default_factory=list, max_length=25)  # offered models; unset: IMAGE_MODEL
    seedream_4_0_max_references: int = Field(default=10, ge=1, le=14)  # 10 per the model card; 14 per the API page
    database_url: str = "sqlite:///data/imagine.db"

    default_resolution: Literal["1K", "2K", "3K", "4K"] = "2K"
    watermark: bool = False
    stream: bool = True
    response_format: Literal["url", "b64_json"] = "url"
    optimize_prompt_mode: Literal["standard", "fast"] | None = None
    reference_mode: Literal["data", "url"] = "data"
    reference_max_bytes: int = Field(default=25 * 1024 * 1024, gt=0)
    reference_max_side: int = Field(default=2048, ge=256, le=6000)
    reference_hosts: list[str] = Field(default_factory=list)
    result_max_bytes: int = Field(default=50 * 1024 * 1024, gt=0)

    api_connect_timeout: float = Field(default=15.0, gt=0)
    api_first_image_timeout: float = Field(default=180.0, gt=0)
    api_image_timeout: float = Field(default=120.0, gt=0)
    job_deadline_seconds: float = Field(default=1500.0, gt=0)
    api_max_retries: int = Field(default=3, ge=0, le=10)
    api_backoff_base: float = Field(default=1.0, ge=0)
    api_backoff_max: float = Field(default=30.0, ge=0)

    max_concurrent_jobs: int = Field(default=4, ge=1, le=1000)  # across every worker of the deployment
    # The durable queue (issue 8): jobs one worker process has waiting on the image API at once (unset:
    # MAX_CONCURRENT_JOBS; a job posting its last image no longer counts), and the lease
    # a running job holds; a job whose worker died is taken over by another once its lease runs out.
    worker_concurrency: int | None = Field(default=None, ge=1, le=1000)
    lease_seconds: float = Field(default=30.0, ge=3, le=600)
    interaction_token_ttl: float = Field(default=900.0, gt=0)
    token_safety_margin: float = Field(default=60.0, ge=0)
    progress_interval: float = Field(default=10.0, gt=0)

    # Reply blending, reference tray and result buttons
    message_content_intent: bool = False
    reference_tray_ttl: float = Field(default=3600.0, gt=0, le=12 * 3600)
    tray_panel_timeout: float = Field(default=600.0, gt=0, le=840)  # under the 15-minute token, to remove it
    keep_references_days: float = Field(default=30.0, ge=0)
    # Nothing lost: fair queue, graceful shutdown, restart recovery, delivery retries (issue 5a).
    max_jobs_per_member: int = Field(default=2, ge=1, le=100)
    max_queue_length: int = Field(default=500, ge=0, le=100_000)  # jobs waiting in the whole deployment
    max_waiting_per_member: int = Field(default=5, ge=1, le=100)
    shutdown_grace_seconds: float = Field(default=30.0, ge=0)
    resume_interrupted_jobs: bool = True  # a taken-over job makes the images it still owes (False: Retry button)
    retry_window_seconds: float = Field(default=86_400.0, gt=0)
    delivery_retries: int = Field(default=2, ge=0, le=10)
    delivery_retry_delay: float = Field(default=1.0, ge=0)
    delivery_timeout: float = Field(default=120.0, gt=0)
    undelivered_dir: Path | None = None
    undelivered_ttl_seconds: float = Field(default=86_400.0, gt=0)
    undelivered_max_bytes: int = Field(default=512 * 1024 * 1024, ge=0)

    dev_guild_id: int | None = None
    pseudo_locale: bool = False  # translators' and testers' tool: every text comes out as marked, accented English

    # Usage, quotas and leaderboards (issue 4): defaults a server can override; 0 = no limit.
    quota_member_daily_images: int = Field(default=100, ge=0)
    quota_guild_daily_images: int = Field(default=1000, ge=0)
    quota_member_concurrent_jobs: int = Field(default=2, ge=0)
    quota_cooldown_seconds: float = Field(default=0.0, ge=0)
    quota_max_set_size: int = Field(default=15, ge=1, le=15)
    quota_allow_4k: bool = True
    price_per_image: float | None = Field(default=None, ge=0)  # one price for every model; unset: each model's
    model_prices: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)  # {model id: price}
    cost_confirm_above: float = Field(default=0.0, ge=0)
    # Role tiers and money (issue 11): defaults a server can override; 0 = no limit / no budget.
    quota_member_monthly_images: int = Field(default=0, ge=0)
    monthly_budget: float = Field(default=0.0, ge=0)
    show_costs: bool = False
    log_level: str = "INFO"

    # Operator tools: structured logs and the optional Prometheus endpoint (off unless METRICS_PORT is set).
    log_format: Literal["text", "json"] = "text"
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"
    # Speed: generated images held in memory at once across all jobs (bounds peak memory under load).
    max_images_in_flight: int = Field(default=16, ge=1, le=1000)

    # Sharding (issue 8): the gateway shards this process runs. Unset: Discord's recommended count, all here.
    shard_count: int | None = Field(default=None, ge=1)
    shard_ids: Annotated[list[int] | None, NoDecode] = None  # SHARD_IDS=0,2-3; needs SHARD_COUNT

    _catalog: Catalog = PrivateAttr()

    @model_validator(mode="after")
    def _models(self) -> Settings:
        """IMAGE_MODELS defaults to IMAGE_MODEL; IMAGE_MODEL (when not set) to the first of IMAGE_MODELS."""
        models = [model.strip() for model in self.image_models if model.strip()]
        if models and "image_model" not in self.model_fields_set:
            self.image_model = models[0]
        try:
            self._catalog = Catalog(
                models or [self.image_model],
                self.image_model,
                prices=self.model_prices,
                price=self.price_per_image,
                max_references_4_0=self.seedream_4_0_max_references,
            )
        except ValueError as error:
            raise ValueError(f"IMAGE_MODELS {error}") from None
        return self

    @property
    def catalog(self) -> Catalog:
        """The models this bot offers and the rules of every model (bot.imagegen.catalog)."""
        return self._catalog

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _shard_id_ranges(cls, value: object) -> object:
        return parse_shard_ids(value) if isinstance(value, str) else value

    @field_validator("shard_ids")
    @classmethod
    def _shards_within_count(cls, value: list[int] | None, info: ValidationInfo) -> list[int] | None:
        if value is None:
            return None
        count = info.data.get("shard_count")
        if count is None:
            raise ValueError("needs SHARD_COUNT (the total number of shards) to be set as well")
        if not value:
            raise ValueError("must name at least one shard")
        if any(not 0 <= shard < count for shard in value):
            raise ValueError(f"every shard id must be between 0 and SHARD_COUNT-1 ({count - 1})")
        return sorted(set(value))

    @field_validator("discord_api_base_url", "image_api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return value.upper()

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        check_database_url(value)
        return value

    @field_validator("discord_token", "image_api_key", "secret_key")
    @classmethod
    def _not_blank(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("image_api_key")
    @classmethod
    def _operator_key(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None and not info.data.get("require_server_key"):
            raise PydanticCustomError(
                "missing_key", "is required but not set (unless REQUIRE_SERVER_KEY=true: each server uses its own)"
            )
        return value

    @field_validator("secret_key")
    @classmethod
    def _long_secret(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None and info.data.get("require_server_key"):
            raise PydanticCustomError(
                "missing_secret",
                "is required with REQUIRE_SERVER_KEY=true (servers' keys are stored encrypted with it)",
            )
        if value is not None and len(value.get_secret_value().strip()) < MIN_SECRET_KEY:
            raise ValueError(f"must be at least {MIN_SECRET_KEY} characters (e.g. `openssl rand -hex 32`)")
        return value

    @field_validator("server_api_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        return [origin_of(item) for item in value]

    @property
    def operator_key(self) -> str | None:
        """IMAGE_API_KEY, the bot's own key (None: only servers' own keys, REQUIRE_SERVER_KEY)."""
        return None if self.image_api_key is None else self.image_api_key.get_secret_value()

    @property
    def secret_values(self) -> list[str]:
        """Every secret value of the configuration, to mask wherever text is shown or logged."""
        values = [self.discord_token, self.image_api_key, self.secret_key]
        return [v.get_secret_value() for v in values if v is not None] + database_secrets(self.database_url)

    @property
    def database_path(self) -> Path | None:
        """The SQLite file named by DATABASE_URL (None for PostgreSQL)."""
        return None if is_postgresql(self.database_url) else database_path(self.database_url)

    @property
    def undelivered_path(self) -> Path:
        """Folder for images Discord would not take: UNDELIVERED_DIR, else `undelivered/` next to the SQLite file,
        else (PostgreSQL) `./data/undelivered`."""
        if self.undelivered_dir is not None:
            return self.undelivered_dir
        path = self.database_path
        return Path("data/undelivered") if path is None else path.parent / "undelivered"

    @property
    def uses_custom_discord_api(self) -> bool:
        """True when DISCORD_API_BASE_URL points somewhere other than Discord."""
        return self.discord_api_base_url != DISCORD_DEFAULT_API

    @property
    def allowed_reference_hosts(self) -> frozenset[str]:
        """Hosts reference images may be downloaded from."""
        hosts = {h.lower() for h in self.reference_hosts or DISCORD_CDN_HOSTS if h}
        if self.uses_custom_discord_api:  # its host only on its own scheme and port: an origin entry
            parts = urlsplit(self.discord_api_base_url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            hosts.add(f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}")
        return frozenset(hosts)


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DATABASE_URL_FORMS = (
    "must look like sqlite:///relative/file.db, sqlite:////absolute/file.db"
    " or postgresql://user:password@host:5432/database"
)
POSTGRES_SCHEMES = ("postgresql", "postgres")


def is_postgresql(url: str) -> bool:
    """Whether DATABASE_URL names a PostgreSQL database."""
    return url.split("://", 1)[0].lower() in POSTGRES_SCHEMES and "://" in url


def check_database_url(url: str) -> None:
    """Raise ValueError (never quoting the URL, which may hold a password) unless DATABASE_URL is usable."""
    if not is_postgresql(url):
        database_path(url)
        return
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ValueError(DATABASE_URL_FORMS) from None
    if not parts.path.strip("/") or not (parts.hostname or "host=" in parts.query):
        raise ValueError(DATABASE_URL_FORMS)


def database_path(url: str) -> Path:
    """Turn `sqlite:///rel.db`, `sqlite:////abs.db` or a plain path into a Path."""
    if "://" not in url:
        return Path(url)
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise ValueError(DATABASE_URL_FORMS)
    return Path(url[len(prefix) :])


def parse_shard_ids(text: str) -> list[int] | None:
    """Parse `0,1`, `0-3` or `0,2-3` into sorted shard ids; blank means unset."""
    if not text.strip():
        return None
    ids: set[int] = set()
    for part in text.split(","):
        match = _SHARD_PART.fullmatch(part.strip())
        if match is None:
            raise ValueError(f"{part.strip()!r} is not a shard id or a range like 0-3 (use e.g. 0,2-3)")
        first, last = int(match["first"]), int(match["last"] or match["first"])
        if not first <= last <= first + _MAX_SHARD_RANGE:
            raise ValueError(f"range {part.strip()!r} must run upwards and span at most {_MAX_SHARD_RANGE} shards")
        ids.update(range(first, last + 1))
    return sorted(ids)


def mask_database_url(url: str) -> str:
    """DATABASE_URL fit to print: the password of a PostgreSQL URL replaced by `***`."""
    if not is_postgresql(url):
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"{user}:***@{host}").geturl()


def mask_url(url: str) -> str:
    """Any URL fit to print: a `user:password@` part becomes `***@`."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]).geturl()


def origin_of(url: str) -> str:
    """`scheme://host:port` of an http(s) URL (ValueError otherwise): how allow-lists name a place."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ValueError("each entry must be an origin such as http://relay.lan:8080") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("each entry must be an origin such as http://relay.lan:8080")
    return f"{parts.scheme}://{parts.hostname.lower()}:{port or (443 if parts.scheme == 'https' else 80)}"


def url_secrets(url: str) -> list[str]:
    """The user name and password embedded in a URL, as written and decoded (to mask them in output)."""
    parts = urlsplit(url)
    found = {value for value in (parts.username, parts.password) if value}
    return sorted(found | {unquote(value) for value in found})


def database_secrets(url: str) -> list[str]:
    """The password of a PostgreSQL DATABASE_URL, as written and decoded (to mask it in logs)."""
    password = urlsplit(url).password if is_postgresql(url) else None
    return [] if not password else sorted({password, unquote(password)})


def describe_validation_error(error: ValidationError) -> str:
    """One line per bad setting, naming the environment variable and never echoing its value."""
    lines = []
    for item in error.errors():
        name = "_".join(str(part) for part in item["loc"]).upper() or "configuration"
        reason = "is required but not set" if item["type"] == "missing" else item["msg"]
        lines.append(f"{name}: {reason}")
    return "; ".join(lines)
