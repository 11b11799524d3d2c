"""The bootstrap program: what the main program's CI needs before its first `pulumi up`."""
