"""Start and stop the Google Cloud emulators (Pub/Sub, Firestore) as plain java processes.

Java is started directly, not through ``gcloud beta emulators ...``: stopping a gcloud
wrapper orphans its JVM. Each emulator runs in its own process group and is stopped by
PID (SIGTERM, then SIGKILL), so nothing is left listening.

Where the Cloud SDK lives: ``$SWITCHBOARD_GCLOUD_PLATFORM`` (the SDK's ``platform``
folder), else ``/usr/lib/google-cloud-sdk/platform``, else next to ``gcloud`` on PATH.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from switchboard_contract.environment import DEFAULT_FIRESTORE_DATABASE, GOOGLE_CLOUD_PROJECT

DEFAULT_PLATFORM = Path("/usr/lib/google-cloud-sdk/platform")
READY_TIMEOUT_SECONDS = 60.0
JVM_FLAGS: tuple[str, ...] = ("-XX:TieredStopAtLevel=1",)
"""How both emulators' JVMs run: the quick (C1) compiler only. An emulator here lives for
one `make dev` or one test module, and on a 2-core machine the optimising (C2)
compiler's threads took more CPU than they gave back. Measured on this project's 2-core
machine on 3 Dec 2026, Firestore emulator alone, 2,400 read-then-write transactions
from 8 threads: 14.7-17.1 s of the JVM's CPU and 10.6-12.5 s wall with the default
compilers, 6.1-8.4 s and 6.2-8.9 s with C1 only; Pub/Sub emulator, 5,000 messages
published and pulled: 1.9-2.2 s of CPU with the default, 1.2-1.3 s with C1 only, the
same wall time."""


class EmulatorError(RuntimeError):
    """An emulator is missing, could not start, or its port is taken."""


def sdk_platform_dir() -> Path | None:
    """The Cloud SDK ``platform`` folder that holds the emulator jars, if any."""
    candidates = []
    if configured := os.environ.get("SWITCHBOARD_GCLOUD_PLATFORM"):
        candidates.append(Path(configured))
    candidates.append(DEFAULT_PLATFORM)
    if gcloud := shutil.which("gcloud"):
        candidates.append(Path(gcloud).resolve().parent.parent / "platform")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return None


def pubsub_jar() -> Path | None:
    platform = sdk_platform_dir()
    if platform is None:
        return None
    jars = sorted((platform / "pubsub-emulator" / "lib").glob("cloud-pubsub-emulator-*-all.jar"))
    return jars[-1] if jars else None


def firestore_jar() -> Path | None:
    platform = sdk_platform_dir()
    if platform is None:
        return None
    jar = platform / "cloud-firestore-emulator" / "cloud-firestore-emulator.jar"
    return jar if jar.is_file() else None


def unavailable_reason() -> str | None:
    """Why the emulators cannot run here, or None when they can."""
    if shutil.which("java") is None:
        return "java is not on PATH (the emulators need Java 17+)"
    if pubsub_jar() is None:
        return (
            "the Pub/Sub emulator jar is not installed (looked under "
            f"{sdk_platform_dir() or DEFAULT_PLATFORM}/pubsub-emulator/lib; set "
            "SWITCHBOARD_GCLOUD_PLATFORM to the Cloud SDK's platform folder)"
        )
    if firestore_jar() is None:
        return (
            "the Firestore emulator jar is not installed (looked under "
            f"{sdk_platform_dir() or DEFAULT_PLATFORM}/cloud-firestore-emulator)"
        )
    return None


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((host, port)) == 0


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def require_free(port: int, what: str, host: str = "127.0.0.1") -> None:
    if port_in_use(port, host):
        raise EmulatorError(
            f"port {port} on {host} is already in use, so the {what} cannot listen there; "
            "stop whatever holds it (`ss -ltnp | grep :%d`) or choose another port" % port
        )


@dataclass
class ManagedProcess:
    """A child process in its own process group, stopped by PID."""

    name: str
    host: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    extra_ports: tuple[int, ...] = field(default=())

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the whole process group, SIGKILL it if it lingers, reap it."""
        stop_process_group(self.process, timeout)

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def stop_process_group(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


def spawn(
    name: str,
    command: list[str],
    log_path: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``command`` in a new session (its own process group), logging to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
            cwd=cwd,
        )


def wait_until_ready(
    managed: ManagedProcess,
    path: str = "/",
    expect: bytes | None = b"Ok",
    timeout: float = READY_TIMEOUT_SECONDS,
) -> None:
    """Poll ``GET path`` until it answers (and, with ``expect``, answers that body)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not managed.running():
            raise EmulatorError(
                f"{managed.name} exited with code {managed.process.returncode} before it was "
                f"ready; last log lines ({managed.log_path}):\n{managed.log_tail()}"
            )
        try:
            with urllib.request.urlopen(managed.url + path, timeout=1) as response:
                body = response.read()
                if expect is None or body.strip().startswith(expect):
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.1)
    managed.stop()
    raise EmulatorError(f"{managed.name} was not ready on {managed.url} after {timeout:.0f}s")


def start_pubsub(
    port: int, log_dir: Path, host: str = "127.0.0.1", wait: bool = True
) -> ManagedProcess:
    """Start the Pub/Sub emulator (ready in about a second; GET / answers ``Ok``)."""
    jar = pubsub_jar()
    if jar is None:
        raise EmulatorError(unavailable_reason() or "Pub/Sub emulator not found")
    require_free(port, "Pub/Sub emulator", host)
    command = ["java", *JVM_FLAGS, "-jar", str(jar), f"--host={host}", f"--port={port}"]
    log_path = log_dir / "pubsub-emulator.log"
    managed = ManagedProcess(
        "Pub/Sub emulator", host, port, spawn("pubsub", command, log_path), log_path
    )
    if wait:
        wait_until_ready(managed)
    return managed


def start_firestore(
    port: int,
    log_dir: Path,
    host: str = "127.0.0.1",
    websocket_port: int | None = None,
    wait: bool = True,
    *,
    import_data: Path | None = None,
) -> ManagedProcess:
    """Start the Firestore emulator in native mode (GET / answers ``Ok``).

    ``import_data``: an export's ``*.overall_export_metadata`` file to load at start
    (see :func:`localdev.faults.export_firestore`)."""
    jar = firestore_jar()
    if jar is None:
        raise EmulatorError(unavailable_reason() or "Firestore emulator not found")
    require_free(port, "Firestore emulator", host)
    websocket_port = websocket_port or free_port(host)
    require_free(websocket_port, "Firestore emulator websocket", host)
    command = [
        "java",
        *JVM_FLAGS,
        "-Duser.language=en",
        "-cp",
        str(jar),
        "com.google.cloud.datastore.emulator.firestore.CloudFirestore",
        "start",
        f"--host={host}",
        f"--port={port}",
        f"--websocket_port={websocket_port}",
    ]
    if import_data is not None:
        command.append(f"--import-data={import_data}")
    log_path = log_dir / "firestore-emulator.log"
    managed = ManagedProcess(
        "Firestore emulator",
        host,
        port,
        spawn("firestore", command, log_path),
        log_path,
        extra_ports=(websocket_port,),
    )
    if wait:
        wait_until_ready(managed)
    return managed


def wipe_firestore(address: str, project: str, database: str = DEFAULT_FIRESTORE_DATABASE) -> None:
    """Delete every document in the emulator's database for ``project``."""
    url = f"http://{address}/emulator/v1/projects/{project}/databases/{database}/documents"
    request = urllib.request.Request(url, method="DELETE")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


@dataclass
class Emulators:
    """Both emulators, with the environment variables the Google clients read."""

    pubsub: ManagedProcess
    firestore: ManagedProcess

    def client_env(self, project: str) -> dict[str, str]:
        return {
            "PUBSUB_EMULATOR_HOST": self.pubsub.address,
            "FIRESTORE_EMULATOR_HOST": self.firestore.address,
            GOOGLE_CLOUD_PROJECT: project,
        }

    def stop(self) -> None:
        for managed in (self.pubsub, self.firestore):
            managed.stop()


@contextlib.contextmanager
def running_emulators(
    log_dir: Path, pubsub_port: int | None = None, firestore_port: int | None = None
) -> Iterator[Emulators]:
    """Start both emulators (on free ports unless given) and stop them on exit."""
    emulators = start_emulators(log_dir, pubsub_port, firestore_port)
    try:
        yield emulators
    finally:
        emulators.stop()


def start_emulators(
    log_dir: Path, pubsub_port: int | None = None, firestore_port: int | None = None
) -> Emulators:
    """Start both emulators side by side and wait until both answer."""
    pubsub = start_pubsub(pubsub_port or free_port(), log_dir, wait=False)
    try:
        firestore = start_firestore(firestore_port or free_port(), log_dir, wait=False)
    except BaseException:
        pubsub.stop()
        raise
    emulators = Emulators(pubsub, firestore)
    try:
        wait_until_ready(pubsub)
        wait_until_ready(firestore)
    except BaseException:
        emulators.stop()
        raise
    return emulators
