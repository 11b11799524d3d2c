"""The event schema registry (``schemas/events/``) and the compatibility gate over it.

- :mod:`tools.schemas.registry`: the JSON Schema of every event type and version,
  generated from the runtime's models; written, checked, and read back from a git ref.
- :mod:`tools.schemas.compat`: which changes between two registries a producer or
  consumer still running the old code cannot survive (``make diff`` fails on them).
"""
