"""mllint: a policy-as-code linter for machine-learning architectures on AWS."""

__version__ = "0.1.0"
