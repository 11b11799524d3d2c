"""The shared libraries the commands, the local platform, the policy pack and preflight import.

A layer of its own (``tests/test_layers.py`` holds the order): it imports nothing from
``infra/``, ``localdev/``, ``policy/`` or ``tools/``. What it needs of the catalogue it reads
through the structural types in :mod:`library.fleet`, which ``infra.catalogue`` satisfies.
"""
