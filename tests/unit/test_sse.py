"""The incremental SSE parser."""

from __future__ import annotations

from bot.imagegen.sse import SseEvent, SseParser, iter_sse

STREAM = (
    b": keep-alive\n\n"
    b"event: image_generation.partial_succeeded\n"
    b'data: {"type":"image_generation.partial_succeeded","image_index":0}\n\n'
    b'data: {"type":"image_generation.completed"}\r\n\r\n'
    b"data: [DONE]\n\n"
)


def parse_in_chunks(data: bytes, size: int) -> list[SseEvent]:
    parser = SseParser()
    events: list[SseEvent] = []
    for start in range(0, len(data), size):
        events.extend(parser.feed(data[start : start + size]))
    return events + parser.close()


def test_events_survive_any_chunking() -> None:
    expected = parse_in_chunks(STREAM, len(STREAM))
    assert [e.event for e in expected] == ["image_generation.partial_succeeded", "message", "message"]
    assert expected[2].data == "[DONE]"
    for size in (1, 2, 3, 7, 50):
        assert parse_in_chunks(STREAM, size) == expected


def test_multi_line_data_is_joined_with_newlines() -> None:
    events = parse_in_chunks(b'data: {"a":\ndata: 1}\n\n', 4)
    assert events == [SseEvent("message", '{"a":\n1}')]


def test_comments_and_unknown_fields_are_ignored() -> None:
    events = parse_in_chunks(b": hi\nid: 5\nretry: 10\ndata:x\n\n", 3)
    assert events == [SseEvent("message", "x")]


def test_final_event_without_blank_line_is_kept() -> None:
    assert parse_in_chunks(b"data: last", 4) == [SseEvent("message", "last")]


def test_crlf_split_across_chunks_is_one_line_end() -> None:
    parser = SseParser()
    assert parser.feed(b"data: a\r") == []
    assert parser.feed(b"\n\r\n") == [SseEvent("message", "a")]


def test_large_frame_in_small_chunks() -> None:
    payload = b"x" * 2_000_000
    events = parse_in_chunks(b"data: " + payload + b"\n\n", 65536)
    assert len(events) == 1 and len(events[0].data) == 2_000_000


async def test_iter_sse_reads_an_async_stream() -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for i in range(0, len(STREAM), 5):
            yield STREAM[i : i + 5]

    events = [event async for event in iter_sse(chunks())]
    assert len(events) == 3
