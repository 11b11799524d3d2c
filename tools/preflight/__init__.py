"""A model of the first ``pulumi up`` on an empty project, over the offline renders.

Mocks accept any input and create everything at once; GCP does not. The rules in
:mod:`tools.preflight.rules` read a render (``rendered/<stack>.json``) and report what a
real first deploy would trip on, naming the resource and the fix.
"""
