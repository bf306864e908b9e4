"""mllint's policies inside checkov, for teams that already run it (`pip install 'mllint[checkov]'`).

    checkov -d infra --external-checks-dir "$(mllint checkov-dir)"

checkov imports every module of `external/`; its one module registers a checkov
check per mllint policy (`checks.py`), and each check answers from mllint's own
scan of what checkov scans (`verdicts.py`). Only this package imports checkov;
`mllint scan` never does.
"""
from __future__ import annotations

from pathlib import Path

EXTERNAL_CHECKS_DIR = Path(__file__).resolve().parent / "external"
