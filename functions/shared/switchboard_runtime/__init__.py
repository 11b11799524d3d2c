"""The shared agent runtime, packaged into every agent's archive.

Public API (import-light: Google clients and SDKs load on first use)::

    from switchboard_runtime import Agent, Context, PermanentError, TransientError

- :class:`Agent` (``handler.py``): routes push deliveries to ``@agent.on(type)`` handlers
  with idempotency claims, dead-lettering and structured logs.
- :class:`Context`: ``event``, ``data`` (validated model), ``publish()``, ``retry()``,
  ``derive_id()``, ``firestore()``, ``budget``. Generic: a handler declares its event's
  model, ``def on_confirmed(ctx: Context[BookingConfirmed])`` (``routes.py``).
- ``errors``: :class:`PermanentError` / :class:`TransientError` and ``classify()``.
- ``events``: the registry ``EVENT_TYPES`` and the data models.
- ``publisher``: ``publish_event()`` for origin events (the gateway), ``derive_event_id()``.
"""

from switchboard_runtime.errors import PermanentError, TransientError
from switchboard_runtime.handler import Agent, Context

__all__ = ["Agent", "Context", "PermanentError", "TransientError"]
