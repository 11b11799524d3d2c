"""A Ctrl-C during spawning waits until the children are recorded."""

from __future__ import annotations

import pytest

from localdev.interrupts import interrupt, spawning


def test_interrupt_outside_spawning_raises_at_once() -> None:
    with pytest.raises(KeyboardInterrupt):
        interrupt()


def test_interrupt_during_spawning_is_raised_after_the_block() -> None:
    recorded: list[str] = []
    with pytest.raises(KeyboardInterrupt), spawning():
        recorded.append("emulator")
        interrupt()  # the signal handler, mid-spawn
        recorded.append("agent")  # still recorded before the interrupt surfaces
        with spawning():  # nested blocks defer to the outermost
            recorded.append("sandbox")
        recorded.append("after nested")
    assert recorded == ["emulator", "agent", "sandbox", "after nested"]
    with spawning():  # nothing pending any more
        pass
