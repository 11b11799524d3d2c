"""A local stand-in for the third-party HTTP APIs the agents call (Calendar, Stripe, Twilio).

Start it with ``python -m sandbox --port 8089``; see ``sandbox/README.md``. In tests::

    from sandbox import Sandbox

    with Sandbox() as box:          # a free port on 127.0.0.1
        box.url, box.requests(), box.fault(...), box.reset()
"""

from sandbox.server import Sandbox

__all__ = ["Sandbox"]
