"""FirstAnswers: interactions go to their first answer AT_ONCE at a time, members taking turns (each member's first
come first served); work that can wait lets them go first."""

from __future__ import annotations

import asyncio

import pytest

from bot import first_answers
from bot.first_answers import FirstAnswers


async def test_interactions_take_their_turns_first_come_first_served(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(first_answers, "AT_ONCE", 2)
    answers = FirstAnswers()
    order: list[int] = []
    answer: dict[int, asyncio.Event] = {n: asyncio.Event() for n in range(5)}

    async def interaction(n: int) -> None:
        # the launcher's within the command handler's: no second turn
        async with answers.answering(n, member=n), answers.answering(n, member=n):
            order.append(n)
            await answer[n].wait()
            answers.answered(n)  # e.g. after the defer; the rest of the block holds no turn

    tasks = [asyncio.create_task(interaction(n)) for n in range(5)]
    await asyncio.sleep(0.01)
    assert order == [0, 1]  # two at a time; the others wait for a turn
    answer[1].set()
    await asyncio.sleep(0.01)
    assert order == [0, 1, 2]
    for n in (0, 2, 3, 4):
        answer[n].set()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]


async def test_a_member_with_one_interaction_goes_before_another_members_burst(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(first_answers, "AT_ONCE", 2)
    answers = FirstAnswers()
    order: list[int] = []
    answer: dict[int, asyncio.Event] = {n: asyncio.Event() for n in range(7)}

    async def interaction(n: int, member: int) -> None:
        async with answers.answering(n, member=member):
            order.append(n)
            await answer[n].wait()

    burst = [asyncio.create_task(interaction(n, member=1)) for n in range(6)]  # member 1 sends six at once
    await asyncio.sleep(0.01)
    single = asyncio.create_task(interaction(6, member=2))  # then member 2 one
    await asyncio.sleep(0.01)
    for n in range(7):  # the oldest in turn is answered, one at a time
        answer[order[n]].set()
        await asyncio.sleep(0.01)
    await asyncio.wait_for(asyncio.gather(single, *burst), 5)
    assert order == [0, 1, 2, 6, 3, 4, 5]  # member 2 had the second turn given back, not the fifth


async def test_a_waiter_that_gives_up_passes_its_turn_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(first_answers, "AT_ONCE", 1)
    turns = first_answers.Turns(1)
    await turns.acquire(member=1)
    gives_up = asyncio.create_task(turns.acquire(member=2))
    waits = asyncio.create_task(turns.acquire(member=3))
    await asyncio.sleep(0)
    gives_up.cancel()
    turns.release()  # to member 3: member 2 is no longer waiting
    await asyncio.wait_for(waits, 1)
    assert turns.locked()
    turns.release()
    assert not turns.locked()  # the one turn is free again: none was lost or made


async def test_work_that_can_wait_waits_for_the_interactions_in_turn_and_in_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(first_answers, "AT_ONCE", 1)
    answers = FirstAnswers()
    await asyncio.wait_for(answers.settled(), 1)  # nothing waits: at once
    answer = asyncio.Event()

    async def interaction(n: int) -> None:
        async with answers.answering(n, member=n):
            await answer.wait()

    tasks = [asyncio.create_task(interaction(n)) for n in range(2)]
    settled = asyncio.create_task(answers.settled())
    await asyncio.sleep(0.01)
    assert not settled.done()
    answer.set()
    await asyncio.wait_for(asyncio.gather(settled, *tasks), 5)


async def test_an_interaction_that_waited_too_long_for_a_turn_goes_anyway(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(first_answers, "AT_ONCE", 1)
    monkeypatch.setattr(first_answers, "AT_MOST", 0.05)
    answers = FirstAnswers()
    stuck = asyncio.Event()

    async def holder() -> None:
        async with answers.answering(1, member=1):
            await stuck.wait()

    held = asyncio.create_task(holder())
    await asyncio.sleep(0)
    async with answers.answering(2, member=2):  # no turn free within AT_MOST: it goes without one
        pass
    stuck.set()
    await held
    async with answers.answering(3, member=3):
        assert answers._turns.locked()  # its one turn: the one that went without a turn gave none back


async def test_work_that_can_wait_waits_only_for_the_interactions_that_came_before_it() -> None:
    answers = FirstAnswers()
    answer = {n: asyncio.Event() for n in range(3)}

    async def interaction(n: int) -> None:
        async with answers.answering(n, member=n):
            await answer[n].wait()

    earlier = asyncio.create_task(interaction(0))
    await asyncio.sleep(0)
    settled = asyncio.create_task(answers.settled())
    later = [asyncio.create_task(interaction(n)) for n in (1, 2)]  # a steady stream keeps coming meanwhile
    await asyncio.sleep(0.01)
    assert not settled.done()
    answer[0].set()
    await asyncio.wait_for(settled, 1)  # not held up by the ones that came after it (they still wait)
    assert not any(task.done() for task in later)
    for n in (1, 2):
        answer[n].set()
    await asyncio.wait_for(asyncio.gather(earlier, *later), 5)
