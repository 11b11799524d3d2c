"""Switchboard's Pulumi program: read settings, load the catalogue, build, export.

Everything lives in infra/; see infra/program.py.
"""

from infra.program import run

run()
