"""GuildKeyStore on SQLite and PostgreSQL: one sealed key per server, replaced in place, removed once, audited."""

from __future__ import annotations

from bot.store import UsageStore


async def test_a_servers_key_is_stored_replaced_and_removed_with_audit(database_url: str) -> None:
    store = await UsageStore.open(database_url, clock=lambda: 1000.0)
    try:
        keys = store.keys
        assert await keys.get(1) is None
        await keys.put(1, "sealed-one", "abcd", None, by=7)
        await keys.put(2, "sealed-other", "wxyz", "relay.example", by=8)
        replaced = await keys.put(1, "sealed-two", "efgh", "relay.example", by=9)
        assert await keys.get(1) == replaced
        assert (replaced.sealed, replaced.hint, replaced.set_by, replaced.set_at) == ("sealed-two", "efgh", 9, 1000.0)

        removed = await keys.delete(1, by=7)
        assert removed is not None and removed.hint == "efgh"
        assert await keys.delete(1, by=7) is None, "removed once"
        assert await keys.get(1) is None and (await keys.get(2)) is not None

        audit = [(e.action, e.detail) for e in reversed(await store.guilds.audit_log(1))]
        assert audit == [
            ("set api key", "…abcd at the bot default"),
            ("set api key", "…efgh at relay.example"),
            ("remove api key", "…efgh"),
        ]
        assert all("sealed" not in detail for _, detail in audit)
    finally:
        await store.close()
