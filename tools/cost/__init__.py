"""The cost model (``python -m tools.cost``): a stack's monthly cost at list prices.

Pure planning modules (no I/O beyond reading the committed files they are given):
``prices`` (the price table), ``traffic`` (a stack's traffic profile), ``calibration``
(what each agent does per delivery, measured on the local platform), ``propagation``
(origin events through topics, filters, retries and follow-ups), ``lineitems`` (quantities
times unit prices), ``report`` (table and JSON). ``__main__`` does the I/O. See docs/cost.md.
"""
