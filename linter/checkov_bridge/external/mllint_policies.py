"""checkov external checks: one per mllint policy (`checkov --external-checks-dir "$(mllint checkov-dir)"`)."""
try:
    from mllint.checkov_bridge.checks import register
except ImportError as exc:  # checkov runs from an environment without mllint
    raise ImportError(
        f"mllint's checkov checks need mllint installed in checkov's environment: pip install 'mllint[checkov]' ({exc})"
    ) from None

register()
