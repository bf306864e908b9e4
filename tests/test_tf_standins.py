"""Values tfparse makes up for attributes it cannot know read as unknown."""
from __future__ import annotations

import json

from conftest import FIXTURES
from mllint.loaders.terraform import load_module
from mllint.loaders.tf_standins import without_stand_ins
from mllint.records import UNKNOWN

MADE_UP = "3f2b9c1e-8d4a-4e6b-9f0a-1c2d3e4f5a6b"


def test_a_string_holding_a_made_up_value_is_unknown():
    assert without_stand_ins(f"search-ranker-{MADE_UP}") is UNKNOWN
    assert without_stand_ins("search-ranker-prod") == "search-ranker-prod"


def test_inside_json_only_the_strings_holding_one_are_unknown():
    document = [{"image": f"repo/finetune:{MADE_UP}", "resourceRequirements": [{"type": "GPU", "value": "1"}]}]
    assert json.loads(without_stand_ins(json.dumps(document))) == [
        {"image": None, "resourceRequirements": [{"type": "GPU", "value": "1"}]}
    ]


def test_names_with_a_random_suffix_are_unknown_and_never_random_text():
    case = FIXTURES / "ML304" / "terraform" / "ranker_random_suffix_autoscaled"
    resources = {r.address: r for r in load_module(case, FIXTURES / "ML304").resources}
    assert resources["aws_sagemaker_endpoint.ranker"].props["name"] is UNKNOWN
    assert resources["aws_appautoscaling_target.ranker"].props["resource_id"] is UNKNOWN
    assert resources["aws_sagemaker_endpoint_configuration.ranker"].props["name"] == "search-ranker-config"
