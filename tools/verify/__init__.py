"""Post-deploy verification of a live project against the catalogue.

``python -m tools.verify --project P --region R`` (or ``--stack S`` to read both from
``Pulumi.S.yaml``). Pub/Sub through google-cloud-pubsub (honours PUBSUB_EMULATOR_HOST);
functions and services through their REST APIs with google-auth (no extra clients).
"""

from tools.verify.checks import Finding, Report

__all__ = ["Finding", "Report"]
