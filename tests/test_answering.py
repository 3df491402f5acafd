"""Work after an answer lets the requests still waiting for theirs go first, but is never held back for long."""

from __future__ import annotations

import threading
import time

from handlers.deps import Answering


def test_work_after_an_answer_waits_while_a_request_is_being_answered():
    answering = Answering()
    started: list[float] = []
    with answering:
        worker = threading.Thread(target=lambda: (answering.wait_until_answered(5), started.append(time.monotonic())))
        worker.start()
        time.sleep(0.2)
        assert started == []  # still answering: the work has not begun
        answered = time.monotonic()
    worker.join(5)
    assert started and started[0] - answered >= Answering.QUIET * 0.9  # and then a short quiet moment


def test_a_steady_stream_of_requests_holds_the_work_back_no_longer_than_its_bound():
    answering = Answering()
    with answering:
        begun = time.monotonic()
        answering.wait_until_answered(0.3)
        assert 0.25 <= time.monotonic() - begun < 2


def test_with_nothing_being_answered_the_work_starts_at_once():
    answering = Answering()
    begun = time.monotonic()
    answering.wait_until_answered(5)
    assert time.monotonic() - begun < 0.05


def test_a_request_that_came_alone_is_known_from_one_that_came_with_others():
    answering = Answering()
    with answering:  # one request, nothing else: alone (while it is still on its way out, too)
        assert answering.came_alone()
    assert answering.came_alone()
    time.sleep(Answering.QUIET * 1.5)
    with answering:
        with answering:  # two at once
            assert not answering.came_alone()
        assert not answering.came_alone()  # the other came a moment before it
    time.sleep(Answering.QUIET * 1.5)
    with answering:  # a while later, alone again
        assert answering.came_alone()
