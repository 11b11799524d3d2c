"""Review-friendly diff of two offline renders (see :mod:`tools.render`).

``python -m tools.diff`` (stack vs its committed manifest), ``--base REF --head REF``
(two git refs), ``--stacks dev prod`` (two stacks); ``--markdown`` for a PR comment.
"""

from tools.diff.compare import Change, Diff, PropertyChange, compare
from tools.diff.hazards import IMMUTABLE_FIELDS, STATEFUL_ADVICE

__all__ = ["IMMUTABLE_FIELDS", "STATEFUL_ADVICE", "Change", "Diff", "PropertyChange", "compare"]
