"""Post-deploy verification of a live project against the catalogue.

``python -m tools.verify --project P --region R`` (or ``--stack S`` to read both from
``Pulumi.S.yaml``). Pub/Sub through google-cloud-pubsub (honours PUBSUB_EMULATOR_HOST);
functions and services through the official clients, google-cloud-functions
(``functions_v2``) and google-cloud-run (``run_v2``), over REST (``tools/verify/compute.py``).
"""

from library.findings import Finding
from tools.verify.checks import Report, result

__all__ = ["Finding", "Report", "result"]
