"""The configuration references (stack settings, agent manifest, catalogue) generated from the
pydantic models that define them: ``python -m tools.reference`` writes docs/reference.md."""
