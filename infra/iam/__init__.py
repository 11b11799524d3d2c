"""IAM concerns shared by the components: waiting for grants to take effect."""

from infra.iam.propagation import GrantPropagation, GrantPropagationArgs

__all__ = ["GrantPropagation", "GrantPropagationArgs"]
