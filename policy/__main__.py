"""The Switchboard CrossGuard policy pack: ``pulumi preview --policy-pack policy``.

The rules are pure functions in ``switchboard_policies`` (also run by the main test suite
over the offline render); ``pack.py`` wraps them. ``PolicyPack(...)`` starts the gRPC
analyzer the Pulumi engine talks to, so this file only runs under the engine (or
``check.sh``, which starts it and stops it by PID).
"""

from pack import build_policies
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name="switchboard",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=build_policies(),
)
