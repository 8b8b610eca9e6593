"""Forget-me requests: a member's history is anonymised in the background, in small batches, and they are told
when it is done. A long history (a million jobs) takes minutes; the member gets their answer at once and the bot
keeps serving everyone meanwhile. A request survives a restart: it is written down before it starts and crossed
out when it is done, and the next start finishes what a stopped one left.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.i18n import current_language, speaking
from bot.store import UsageStore
from bot.store.usage import Forgotten

log = logging.getLogger(__name__)

KEY = "forget-me:"  # meta key prefix: one row per request under way, `forget-me:<user id>` = the member's language

# (user id, what was done): the member hears of it, called in the language they asked in
Tell = Callable[[int, Forgotten], Awaitable[object]]


class Forgetter:
    """Runs forget-me requests one member at a time each, in the background."""

    def __init__(self, store: UsageStore) -> None:
        self.store = store
        self._running: dict[int, asyncio.Task[None]] = {}

    def busy(self, user_id: int) -> bool:
        """Whether a request of this member is under way in this process."""
        return user_id in self._running

    def start(self, user_id: int, tell: Tell) -> bool:
        """Start forgetting `user_id` in the background, in the current language (the member is told in it); False
        when a request of theirs is already under way."""
        if user_id in self._running:
            return False
        task = asyncio.create_task(self._forget(user_id, tell))
        self._running[user_id] = task
        task.add_done_callback(lambda _: self._running.pop(user_id, None))
        return True

    async def resume(self, tell: Tell) -> int:
        """Start again every request a stopped process left unfinished, each in the language it was asked in; how
        many."""
        started = 0
        for key in await self.store.meta_keys(KEY):
            with speaking(await self.store.get_meta(key)):  # "1" (before languages): English
                started += self.start(int(key.removeprefix(KEY)), tell)
        if started:
            log.info("resuming %d forget-me request(s) left by the last run", started)
        return started

    async def _forget(self, user_id: int, tell: Tell) -> None:
        key = f"{KEY}{user_id}"
        try:
            await self.store.set_meta(key, current_language())
            forgotten = await self.store.usage.forget_user(user_id)
            await self.store.tray.forget_user(user_id)
            await self.store.member_defaults.forget_user(user_id)
            await self.store.delete_meta(key)
        except asyncio.CancelledError:
            raise  # shutdown: the request stays written down for the next start
        except Exception:
            log.exception("forget-me of user %s failed; it is retried at the next start", user_id)
            return
        log.info("forget-me of user %s done: %d job(s)", user_id, forgotten.jobs)
        try:
            await tell(user_id, forgotten)
        except Exception:
            log.warning("could not tell user %s that forget-me is done", user_id, exc_info=True)

    async def close(self) -> None:
        """Stop every request under way (each is finished at the next start)."""
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
