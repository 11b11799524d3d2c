"""The bootstrap Pulumi program (its own project: see Pulumi.yaml and README.md)."""
