"""The local console: a web page over the running local platform (``make dev``).

It reads what the command-line tools read (``.local/platform.json``, the platform's
``trace.jsonl``, the Firestore emulator, the sandbox's recorded calls, the dead-letter
subscriptions through ``tools.deadletters``) plus a copy of every message published to a
catalogue topic (its own pull subscriptions, :mod:`localdev.console.tap`). Loopback only.
See docs/local-platform.md, "The console".
"""
