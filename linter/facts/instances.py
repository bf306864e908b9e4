"""Facts of EC2 instances and Auto Scaling groups that run ML work directly."""
from __future__ import annotations

KINDS: dict = {}
