"""``python -m tools.new_agent``: scaffold ``functions/<name>/`` (``make agent``)."""
