"""What a dynamic provider receives for a value the engine does not know yet.

In a preview, an input computed by the cloud is unknown. The real dynamic-provider host
(``python -m pulumi.dynamic``) deserialises it as a ``pulumi.output.Unknown`` object
(``rpc.deserialize_properties(..., keep_unknowns=True)``); Pulumi's mocks and older code
paths hand over the string sentinel ``pulumi.runtime.rpc.UNKNOWN``. Providers treat both
alike, through :func:`is_unknown`.
"""

from __future__ import annotations

from typing import Any

from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN as UNKNOWN_SENTINEL


def is_unknown(value: Any) -> bool:
    """True for the engine's unknown, in either of the forms a provider can receive."""
    return isinstance(value, Unknown) or (isinstance(value, str) and value == UNKNOWN_SENTINEL)
