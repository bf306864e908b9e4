"""User-data parsing: what a script starts, and what it only mentions."""
from __future__ import annotations

import base64
import gzip

import pytest

from mllint.facts.userdata import decode, read
from mllint.records import UNKNOWN


@pytest.mark.parametrize(
    "script, starts",
    [
        ("docker run -d --gpus all -p 8080:80 -e A=b vllm/vllm-openai:v0.6.3 --model m", ["docker run vllm/vllm-openai:v0.6.3"]),
        ("IMAGE=pytorch/torchserve:0.11.0-cpu\nsudo docker run --rm -it $IMAGE", ["docker run pytorch/torchserve:0.11.0-cpu"]),
        ("docker run --shm-size 1g \\\n  --name tgi \\\n  ghcr.io/huggingface/text-generation-inference:2.2.0", ["docker run ghcr.io/huggingface/text-generation-inference:2.2.0"]),
        ('sudo -u ubuntu bash -c "nohup tritonserver --model-repository=/m > /tmp/t.log 2>&1 &"', ["tritonserver --model-repository=/m"]),
        ("torchserve --start --models a=a.mar", ["torchserve --start --models a=a.mar"]),
        ("ExecStart=/opt/venv/bin/uvicorn app:app --port 80", ["/opt/venv/bin/uvicorn app:app --port 80"]),
        ("runcmd:\n  - [ sh, -c, \"docker run nginx:1.27\" ]", ["docker run nginx:1.27"]),
        ("python3 -m vllm.entrypoints.openai.api_server --model m", ["python3 -m vllm.entrypoints.openai.api_server --model m"]),
        ("pip3 install torchserve uvicorn\ntorchserve --stop\ndocker pull nginx:1.27", []),
        ("echo docker run x >> /tmp/notes\nsystemctl start docker", []),
    ],
)
def test_starts(script, starts):
    assert read(script).starts == starts


def test_images_env_and_lines():
    found = read("pip install torch\ndocker run -e HF_MODEL_ID=m -e SM_NUM_GPUS=1 img:1\nimage: vllm/vllm-openai:v0.6.3\n")
    assert found.images == ["img:1", "vllm/vllm-openai:v0.6.3"]
    assert found.env == {"HF_MODEL_ID": "m", "SM_NUM_GPUS": "1"}
    assert not any(line.startswith("pip") for line in found.lines)


def test_decode():
    script = "#!/bin/bash\necho hi\n"
    assert decode(script) == script
    assert decode(base64.b64encode(script.encode()).decode()) == script
    assert decode(base64.b64encode(gzip.compress(script.encode())).decode()) == script
    assert decode(None) is None
    assert decode(UNKNOWN) is UNKNOWN
    assert decode(base64.b64encode(b"\xff\xfe\x00").decode()) is UNKNOWN
