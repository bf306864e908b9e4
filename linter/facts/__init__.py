"""Fact builders: one module per family of AWS resources (see mllint.model)."""
