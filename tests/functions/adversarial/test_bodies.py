"""Finding 3 (unbounded bodies): a 30 MiB body to any gateway path is refused with 413,
declared or chunked, without the process growing by more than a few MiB.

The gateway reads at most each path's cap; what is left of a refused body is discarded by
the server (gunicorn, in reads of up to 1 MiB per connection), so a refused body costs
the same at 2 MiB and at 30 MiB. (Before: 8 such requests took the peak from 94 MiB to
349 MiB, functions-framework reading each whole body after the answer.)

The gateway runs as it does on Cloud Run and the local platform: functions-framework
(gunicorn) in its own process; its resident memory (the whole process tree) is read from
/proc before and after eight concurrent 30 MiB requests.
"""

from __future__ import annotations

import concurrent.futures
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.functions.adversarial.gateway import gateway_harness
from tests.functions.harness import FUNCTIONS, Harness, api_headers

pytestmark = pytest.mark.emulator
PROJECT = "demo-adversarial-bodies"
MIB = 1024 * 1024
BODY = 30 * MIB
GROWTH_LIMIT = 6 * MIB  # "a few MiB": gunicorn discarding one unread rest costs ~3-4
DRAIN_PER_CONNECTION = 4 * MIB
PATHS = ("/bookings", "/stripe", "/twilio")
CAPS = {"/bookings": 16 * 1024, "/stripe": 256 * 1024, "/twilio": 64 * 1024}


def test_the_caps_are_the_gateways() -> None:
    sys.path.insert(0, str(FUNCTIONS / "gateway"))
    import gateway_bookings
    import gateway_stripe
    import gateway_twilio

    assert CAPS == {
        "/bookings": gateway_bookings.MAX_BODY_BYTES,
        "/stripe": gateway_stripe.MAX_BODY_BYTES,
        "/twilio": gateway_twilio.MAX_BODY_BYTES,
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _tree_rss(pid: int, field: str = "VmHWM:") -> int:
    """Peak resident bytes (``VmHWM``) of ``pid`` and every descendant (gunicorn's arbiter
    and workers): the peak, because a body read whole is freed again after the request."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        status = Path(f"/proc/{current}/status")
        if not status.exists():
            continue
        for line in status.read_text().splitlines():
            if line.startswith(field):
                total += int(line.split()[1]) * 1024
        for task in Path(f"/proc/{current}/task").iterdir():
            children = (task / "children").read_text().split()
            pending.extend(int(child) for child in children)
    return total


@pytest.fixture(scope="module")
def gateway(emulators: Any, sandbox_server: Any) -> Iterator[str]:
    harness: Harness = gateway_harness(emulators, sandbox_server, PROJECT)
    port = _free_port()
    shared = str(FUNCTIONS / "shared")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", ""),
        **harness.env(),
        "PYTHONPATH": os.pathsep.join([str(FUNCTIONS / "gateway"), shared]),
        "THREADS": "8",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "functions_framework",
            "--target",
            "handle",
            "--source",
            "main.py",
            "--signature-type",
            "http",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=FUNCTIONS / "gateway",
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("the gateway did not start under functions-framework")
            time.sleep(0.2)
        url_pid = (url, process.pid)
        yield f"{url_pid[0]}#{url_pid[1]}"
    finally:
        os.killpg(process.pid, 15)
        process.wait(20)


def _chunks(total: int) -> Iterator[bytes]:
    block = b"[" * MIB
    for _ in range(total // MIB):
        yield block


def _send(url: str, path: str, chunked: bool, size: int = BODY) -> int:
    headers = api_headers() if path == "/bookings" else {}
    headers["Content-Type"] = (
        "application/x-www-form-urlencoded" if path == "/twilio" else "application/json"
    )
    data: Any = _chunks(size) if chunked else b"[" * size
    try:
        return requests.post(url + path, data=data, headers=headers, timeout=60).status_code
    except requests.ConnectionError:
        return -1  # the server may close the connection instead of reading 30 MiB


def _round(url: str, cases: list[tuple[str, bool]], size: int) -> list[int]:
    with concurrent.futures.ThreadPoolExecutor(len(cases)) as pool:
        return list(pool.map(lambda case: _send(url, *case, size=size), cases))


def test_30_mib_bodies_are_refused_without_growing_the_process(gateway: str) -> None:
    url, pid = gateway.split("#")
    cases = [(path, chunked) for path in PATHS for chunked in (True, False)] + [
        ("/stripe", True),
        ("/twilio", True),
    ]
    # Warm up every path (imports, first-request work, each thread's malloc arena) with the
    # same concurrency and bodies of exactly each path's cap: what a legitimate request may
    # cost.
    for _ in range(3):
        with concurrent.futures.ThreadPoolExecutor(len(cases)) as pool:
            list(pool.map(lambda case: _post_at_cap(url, case[0]), cases))
    time.sleep(0.5)
    legitimate = _tree_rss(int(pid))
    # One 30 MiB body after the other, to each path, declared and chunked.
    statuses = [_send(url, path, chunked) for path, chunked in cases[:6]]
    time.sleep(0.5)
    sequential = _tree_rss(int(pid))
    assert statuses == [413] * 6, list(zip(cases, statuses, strict=False))
    # Eight at once: gunicorn discards each unread rest in reads of up to 1 MiB per
    # connection (about 3 MiB at its peak, whatever the body's size).
    statuses = _round(url, cases, BODY)
    time.sleep(0.5)
    concurrent_peak = _tree_rss(int(pid))
    assert statuses == [413] * len(cases), list(zip(cases, statuses, strict=True))
    print(
        f"gateway peak RSS: {legitimate / MIB:.1f} MiB after cap-sized requests; "
        f"{sequential / MIB:.1f} MiB after 6 refused 30 MiB bodies one by one; "
        f"{concurrent_peak / MIB:.1f} MiB after {len(cases)} at once"
    )
    assert sequential - legitimate < GROWTH_LIMIT, f"grew {(sequential - legitimate) / MIB} MiB"
    assert concurrent_peak - legitimate < BODY, "a whole 30 MiB body was held in memory"
    assert concurrent_peak - legitimate < DRAIN_PER_CONNECTION * len(cases)
    assert requests.get(url + "/healthz", timeout=5).status_code == 200


def _post_at_cap(url: str, path: str) -> int:
    headers = api_headers() if path == "/bookings" else {}
    body = b"[" * CAPS[path]
    return requests.post(url + path, data=body, headers=headers, timeout=30).status_code
