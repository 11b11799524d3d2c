"""Dead letters: what Pub/Sub adds to one (:mod:`.attributes`), what it says about itself and
what a redriven copy carries (:mod:`.records`), and list/redrive/purge (:mod:`.operations`).

The command is ``python -m tools.deadletters``; the local console's dead-letter view uses the
same operations.
"""
