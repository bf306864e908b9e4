"""Facts of other AWS services that ML data and serving land on: ECS services, Elastic Beanstalk, Kinesis Data Firehose, Glue, Data Pipeline."""
from __future__ import annotations

KINDS: dict = {}
