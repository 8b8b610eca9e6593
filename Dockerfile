# Seedream image bot: slim Python, non-root, database on the /data volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DATABASE_URL=sqlite:////data/imagine.db

# Charts draw member names in every script: Noto Sans CJK covers Latin, Cyrillic, Chinese, Japanese and Korean.
# Its version is the base image's Debian release's (not pinned: it changes with that release).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
# Same install step as the README's "run the bot" command. `python -m bot` runs the copy in /app (the working
# directory comes first on the import path), which PYTHONDONTWRITEBYTECODE and the non-root user would leave
# uncompiled: compiled here, once, instead of at every start (a third of a second before READY).
RUN pip install --no-cache-dir . \
    && python -m compileall -q bot cogs \
    && useradd --create-home --uid 10001 bot \
    && mkdir -p /data \
    && chown bot:bot /data

USER 10001
VOLUME ["/data"]
ENTRYPOINT ["python", "-m", "bot"]
