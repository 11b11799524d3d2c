"""``python -m tools.verify (--stack S | --project P --region R) [--no-compute]
[--no-push-check] [--functions-root DIR]``: exit 1 when the live project differs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infra.catalogue import FUNCTIONS_DIR, load_catalogue
from infra.offline.harness import stack_config
from infra.settings import parse_settings
from tools.catalogue_errors import exits_on_catalogue_error
from tools.verify.checks import Report, result
from tools.verify.compute import ClientComputeReader, ComputeReader, check_compute
from tools.verify.pubsub import check_dead_letters, check_subscriptions, check_topics

REPO_ROOT = Path(__file__).resolve().parents[2]


def stack_target(stack: str, root: Path = REPO_ROOT) -> tuple[str, str]:
    """``gcp:project`` and ``gcp:region`` of ``Pulumi.<stack>.yaml``, validated like the
    program validates them (a :class:`SettingsError` names the file and key)."""
    settings = parse_settings(stack, stack_config(stack, root))
    return settings.project, settings.region


def verify(
    project: str,
    region: str,
    functions_root: Path = FUNCTIONS_DIR,
    *,
    compute: ComputeReader | None = None,
    check_compute_state: bool = True,
    require_push: bool = True,
) -> Report:
    from google.cloud import pubsub_v1

    catalogue = load_catalogue(functions_root)
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    report = Report()
    if check_compute_state:
        report.extend(check_compute(catalogue, project, region, compute or ClientComputeReader()))
    else:
        report.add(result("compute ready", "*", True, "not checked (--no-compute)", True))
    report.extend(check_topics(catalogue, project, publisher))
    report.extend(check_subscriptions(catalogue, project, subscriber, require_push))
    report.extend(check_dead_letters(catalogue, project, subscriber))
    return report


@exits_on_catalogue_error
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.verify", description=__doc__)
    parser.add_argument("--stack", help="read gcp:project and gcp:region from Pulumi.<stack>.yaml")
    parser.add_argument("--project")
    parser.add_argument("--region")
    parser.add_argument("--functions-root", type=Path, default=FUNCTIONS_DIR)
    parser.add_argument("--no-compute", action="store_true", help="skip function/service checks")
    parser.add_argument(
        "--no-push-check", action="store_true", help="do not require push config (emulator)"
    )
    args = parser.parse_args(argv)
    project, region = args.project, args.region
    if args.stack:
        stack_project, stack_region = stack_target(args.stack)
        project, region = project or stack_project, region or stack_region
    if not project or not region:
        parser.error("give --stack, or --project and --region")
    report = verify(
        project,
        region,
        args.functions_root,
        check_compute_state=not args.no_compute,
        require_push=not args.no_push_check,
    )
    sys.stdout.write(report.text())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
