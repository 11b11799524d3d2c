"""Switchboard's Pulumi program: read settings, load the catalogue, build, export.

Everything lives in infra/; see infra/program.py. An invalid catalogue is reported
without a traceback (``pulumi.RunError``).
"""

from infra.program import main

main()
