"""``python -m tools.secrets check NAME < value``: is a secret's value well-formed, before
it is uploaded to Secret Manager? ``python -m tools.secrets list``: every secret, who reads
it and its format. The value is never printed."""
