"""``python -m sandbox --port 8089``: serve until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from sandbox.server import SandboxServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    options = parser.parse_args(argv)
    try:
        server = SandboxServer(options.host, options.port, options.verbose)
    except OSError as exc:
        print(f"sandbox: cannot listen on {options.host}:{options.port}: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    print(f"sandbox listening on {server.url}", flush=True)
    stop.wait()
    server.shutdown()
    server.server_close()
    print("sandbox stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
