"""switchboard-bootstrap: state bucket, secrets key, GitHub federation, deployers.

Everything lives in switchboard_bootstrap/; see switchboard_bootstrap/program.py.
"""

from switchboard_bootstrap.program import main

main()
