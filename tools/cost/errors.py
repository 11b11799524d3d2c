"""The one error a user can cause in the cost model: a bad or missing input, named."""


class CostInputError(ValueError):
    """A price table, traffic profile, calibration or render the model cannot use."""
