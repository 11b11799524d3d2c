"""The ack batcher: acks from many threads share requests, each caller learns its
request's outcome, and nothing waiting is lost at close."""

from __future__ import annotations

import threading

import pytest

from localdev.ack_batcher import MAX_ACK_IDS, AckBatcher


class Recorder:
    def __init__(self, fail_with: Exception | None = None) -> None:
        self.requests: list[list[str]] = []
        self.fail_with = fail_with
        self.lock = threading.Lock()

    def __call__(self, ack_ids: list[str]) -> None:
        with self.lock:
            self.requests.append(list(ack_ids))
        if self.fail_with is not None:
            raise self.fail_with


def ack_from_threads(batcher: AckBatcher, ids: list[str]) -> list[BaseException]:
    errors: list[BaseException] = []

    def one(ack_id: str) -> None:
        try:
            batcher.ack(ack_id)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=one, args=(ack_id,)) for ack_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return errors


def test_concurrent_acks_share_requests_and_every_id_is_sent_once() -> None:
    sent = Recorder()
    batcher = AckBatcher(sent, "test", flush_seconds=0.2)
    ids = [f"ack-{n}" for n in range(50)]
    assert ack_from_threads(batcher, ids) == []
    batcher.close()
    flat = [ack_id for request in sent.requests for ack_id in request]
    assert sorted(flat) == sorted(ids)
    assert len(sent.requests) < len(ids)


def test_an_ack_returns_only_after_its_request_was_answered() -> None:
    answered = threading.Event()

    def slow_send(ack_ids: list[str]) -> None:
        answered.wait(5)

    batcher = AckBatcher(slow_send, "test")
    done = threading.Event()
    threading.Thread(target=lambda: (batcher.ack("a"), done.set()), daemon=True).start()
    assert not done.wait(0.3)
    answered.set()
    assert done.wait(5)
    batcher.close()


def test_each_caller_gets_its_requests_error() -> None:
    sent = Recorder(fail_with=RuntimeError("emulator gone"))
    batcher = AckBatcher(sent, "test", flush_seconds=0.1)
    errors = ack_from_threads(batcher, ["a", "b", "c"])
    batcher.close()
    assert len(errors) == 3
    assert all(str(error) == "emulator gone" for error in errors)


@pytest.mark.slow
def test_a_request_never_holds_more_than_pubsubs_limit() -> None:
    sent = Recorder()
    batcher = AckBatcher(sent, "test", flush_seconds=0.5)
    ack_from_threads(batcher, [f"id-{n}" for n in range(MAX_ACK_IDS + 10)])
    batcher.close()
    assert max(len(request) for request in sent.requests) <= MAX_ACK_IDS
    assert sum(len(request) for request in sent.requests) == MAX_ACK_IDS + 10


def test_after_close_an_ack_is_sent_on_its_own() -> None:
    sent = Recorder()
    batcher = AckBatcher(sent, "test")
    batcher.close()
    batcher.ack("late")
    assert sent.requests == [["late"]]


@pytest.mark.parametrize("flush", [0.0, 0.01])
def test_a_lone_ack_is_sent_within_the_flush_time(flush: float) -> None:
    sent = Recorder()
    batcher = AckBatcher(sent, "test", flush_seconds=flush)
    batcher.ack("only")
    assert sent.requests == [["only"]]
    batcher.close()
