"""``python -m tools.test_agent NAME``: one agent's tests (``make test-agent NAME=...``)."""
