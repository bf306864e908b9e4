"""Facts of SageMaker endpoint configurations, training jobs and pipelines."""
from __future__ import annotations

KINDS: dict = {}
