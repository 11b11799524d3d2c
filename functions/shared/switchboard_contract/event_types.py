"""Every event type of the fleet: its topic and the schema versions readers accept.

The one registry of names. ``functions/catalogue.yaml`` must declare exactly these types,
each on its topic: the catalogue loader refuses any other (naming the file and field).
The pydantic models of each version live in ``switchboard_runtime/events.py`` (this
package has no dependencies), which checks when imported that it models exactly these
types and versions. Adding a type or a version is a change here, there, and in the
catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EventType:
    """One event type: the topic it travels on and the versions readers accept (oldest
    first, consecutive)."""

    name: str
    topic: str
    versions: tuple[int, ...] = (1,)


EVENT_TYPES: dict[str, EventType] = {
    spec.name: spec
    for spec in (
        EventType("booking.requested", "bookings"),
        EventType("booking.cancelled", "bookings"),
        EventType("booking.confirmed", "bookings"),
        EventType("booking.rejected", "bookings"),
        EventType("payment.link_created", "payments"),
        EventType("payment.received", "payments"),
        EventType("payment.recorded", "payments"),
        EventType("notification.requested", "notifications"),
        EventType("sms.received", "inbound"),
        EventType("tick", "ticks"),
    )
}
"""Event type name -> :class:`EventType`."""


def mismatches(modelled: dict[str, tuple[str, tuple[int, ...]]]) -> list[str]:
    """How ``modelled`` (type -> (topic, versions), as the runtime's models declare them)
    differs from :data:`EVENT_TYPES`; empty when they agree."""
    found = []
    for name in sorted(set(EVENT_TYPES) - set(modelled)):
        found.append(f"{name}: in the registry but has no model")
    for name in sorted(set(modelled) - set(EVENT_TYPES)):
        found.append(f"{name}: has a model but is not in the registry")
    for name in sorted(set(modelled) & set(EVENT_TYPES)):
        spec, (topic, versions) = EVENT_TYPES[name], modelled[name]
        if (spec.topic, spec.versions) != (topic, versions):
            found.append(
                f"{name}: registry says topic {spec.topic!r} versions {list(spec.versions)}, "
                f"the models topic {topic!r} versions {list(versions)}"
            )
    return found
