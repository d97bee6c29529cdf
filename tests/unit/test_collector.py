"""The cyclic collector is paused only while specs load, and always resumed after."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.core.errors import SpecError
from reconciler.engine.load import load
from reconciler.specs.collector import collector_paused


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def test_a_failing_load_resumes_the_collector(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("a: [1, 2\n", encoding="utf-8")
    with pytest.raises(SpecError):
        load(tmp_path)
    assert gc.isenabled()


def test_overlapping_pauses_resume_once_the_last_ends() -> None:
    inner_started, outer_done = threading.Event(), threading.Event()
    seen: list[bool] = []

    def inner() -> None:
        with collector_paused():
            inner_started.set()
            outer_done.wait(10)
            seen.append(gc.isenabled())  # the outer pause ended first: still paused here
        seen.append(gc.isenabled())

    with collector_paused():
        assert not gc.isenabled()
        thread = threading.Thread(target=inner)
        thread.start()
        inner_started.wait(10)
    outer_done.set()
    thread.join(10)
    assert seen == [False, True]


def test_a_collector_the_caller_turned_off_stays_off() -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()
