"""The contract between the agents' runtime, the Pulumi program, the local platform and
the tools: every name they share, written once (docs/agent-contract.md).

Standard library only, so every side can import it: it ships at the root of every agent's
archive (beside ``switchboard_runtime``), the program and the tools import it from
``functions/shared``, and the local platform's agent processes find it on ``PYTHONPATH``.

- :mod:`~switchboard_contract.environment`: the environment variables an agent is given,
  and :func:`~switchboard_contract.environment.agent_environment`, the one function that
  computes them (the cloud plan and the local platform both call it);
- :mod:`~switchboard_contract.attributes`: message attributes, the redrive and failure
  attributes, and the ones Pub/Sub adds when it dead-letters a message;
- :mod:`~switchboard_contract.outcomes`: outcome names of the runtime and of the local
  platform's trace;
- :mod:`~switchboard_contract.event_types`: every event type, its topic and the schema
  versions readers accept.
"""
