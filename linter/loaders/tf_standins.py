"""Values tfparse makes up for what it cannot know.

For a resource attribute it has no value for (`random_string.suffix.result`,
`random_id.x.hex`), tfparse writes a fresh random UUID, a different one at each
reference: `name = "ranker-${random_string.suffix.result}"` on an endpoint and
`"endpoint/${aws_sagemaker_endpoint.e.name}/variant/AllTraffic"` on its scalable
target come back with two different UUIDs, so compared as text they would never
match, and the output would change from run to run. Such a value is unknown.

The Terraform loader first turns the UUIDs that are block ids into `${address}`
placeholders; a UUID left after that is a stand-in. A string holding one is UNKNOWN;
inside a JSON document (`jsonencode`), only the JSON strings holding one become
null, which `decode_json` reads as unknown, so the rest of the document still counts.
A UUID written literally (a KMS key id in an ARN) cannot be told apart and reads as
unknown too: that can hide a finding, never make one.
"""
from __future__ import annotations

import json
import re
from typing import Any

from mllint.records import UNKNOWN

STAND_IN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def without_stand_ins(text: str) -> Any:
    """`text`, or UNKNOWN when it holds a made-up value (see the module docstring)."""
    if not STAND_IN.search(text):
        return text
    if text.lstrip().startswith(("{", "[")):
        try:
            document = json.loads(text)
        except ValueError:
            return UNKNOWN
        return json.dumps(_nulled(document))
    return UNKNOWN


def _nulled(value: Any) -> Any:
    if isinstance(value, str):
        return None if STAND_IN.search(value) else value
    if isinstance(value, list):
        return [_nulled(item) for item in value]
    if isinstance(value, dict):
        return {key: _nulled(item) for key, item in value.items()}
    return value
