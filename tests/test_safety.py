"""A scan opens no network connection and runs nothing from the scanned repository.

The scanned repository is hostile: registry, git, S3 and HTTP module sources, `data "http"`,
`data "external"` and `local-exec` programs, a provider binary in `.terraform/`, CDK and CDKTF
apps, remote nested stacks, and Python files named like mllint's dependencies. Every program
in it would leave a marker file. The scan runs as a user runs it (the `mllint` command, and
`python -m mllint` from inside the repository), with its workers forked or spawned, under
three detectors:

* a `sitecustomize` on PYTHONPATH (so spawned workers load it too, and forked ones inherit it)
  that refuses and records every Python-level connection, datagram and name lookup;
* HTTP(S)_PROXY pointing at a local recorder, which sees any download tfparse's Go code or
  `git` would start (checked in `test_the_detectors_see_what_they_guard_against`);
* `git`, `terraform`, `cdk`, ... on PATH replaced by programs that leave a marker.
"""
from __future__ import annotations

import json
import os
import socketserver
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

GUARD = '''\
"""Test guard: refuse and record network use in this process (and the ones it forks)."""
import os
import socket

_LOG = os.environ["MLLINT_GUARD_LOG"]
_INET = (socket.AF_INET, socket.AF_INET6)


def _record(what):
    with open(_LOG, "a", encoding="utf-8") as handle:
        handle.write(f"{os.getpid()} {what}\\n")


def _refuse(what):
    _record(what)
    raise OSError(f"network use blocked by the test guard: {what}")


def _socket_method(name, real):
    def guarded(self, *args, **kwargs):
        if self.family in _INET:
            _refuse(f"socket.{name} {args[-1] if args else ''!r}")
        return real(self, *args, **kwargs)
    return guarded


for _name in ("connect", "connect_ex", "sendto", "sendmsg"):
    setattr(socket.socket, _name, _socket_method(_name, getattr(socket.socket, _name)))
socket.create_connection = lambda address, *args, **kwargs: _refuse(f"create_connection {address!r}")
socket.getaddrinfo = lambda host, *args, **kwargs: _refuse(f"getaddrinfo {host!r}")
socket.gethostbyname = lambda host: _refuse(f"gethostbyname {host!r}")
_record("guard installed")
'''

TOOLS = ("git", "terraform", "tofu", "terragrunt", "cdk", "cdktf", "npx", "npm", "node", "sam", "aws", "curl", "wget",
         "docker")


def marker_script(markers: Path, name: str) -> str:
    return f"import pathlib\npathlib.Path({str(markers / name)!r}).write_text('ran')\n"


def hostile_repository(repo: Path, markers: Path) -> None:
    """Write the scanned repository: every program in it leaves `markers/<name>` if run."""
    files = {
        "infra/main.tf": f"""\
            terraform {{
              required_providers {{
                aws = {{ source = "hashicorp/aws", version = "~> 5.80" }}
              }}
            }}

            module "batch" {{
              source  = "terraform-aws-modules/batch/aws"
              version = "~> 3.0"
            }}

            module "vpc" {{
              source = "git::https://github.com/terraform-aws-modules/terraform-aws-vpc.git?ref=v5.8.1"
            }}

            module "network" {{
              source = "github.com/acme/terraform-aws-network"
            }}

            module "bucket" {{
              source = "s3::https://s3-eu-west-1.amazonaws.com/acme-modules/bucket.zip"
            }}

            module "queue" {{
              source = "https://modules.example.com/queue.zip"
            }}

            data "http" "model_card" {{
              url = "https://huggingface.co/api/models/bert-base-uncased"
            }}

            data "external" "git_sha" {{
              program = ["python3", "${{path.module}}/hooks/external.py"]
            }}

            resource "terraform_data" "warmup" {{
              provisioner "local-exec" {{
                command = "python3 ${{path.module}}/hooks/local_exec.py"
              }}
            }}

            resource "aws_ecs_task_definition" "train" {{
              family                   = "train-${{data.external.git_sha.result.sha}}"
              requires_compatibilities = ["FARGATE"]
              network_mode             = "awsvpc"
              cpu                      = "4096"
              memory                   = "16384"
              container_definitions = jsonencode([{{
                name                 = "train"
                image                = "123456789012.dkr.ecr.us-east-1.amazonaws.com/train:1"
                resourceRequirements = [{{ type = "GPU", value = "1" }}]
              }}])

              provisioner "local-exec" {{
                command = "python3 ${{path.module}}/hooks/local_exec_on_resource.py"
              }}
            }}
            """,
        "infra/hooks/external.py": marker_script(markers, "data-external"),
        "infra/hooks/local_exec.py": marker_script(markers, "local-exec"),
        "infra/hooks/local_exec_on_resource.py": marker_script(markers, "local-exec-on-resource"),
        "infra/.terraform.lock.hcl": 'provider "registry.terraform.io/hashicorp/aws" {\n  version = "5.80.0"\n}\n',
        "infra/.terraform/providers/registry.terraform.io/hashicorp/aws/5.80.0/linux_amd64/terraform-provider-aws_v5.80.0_x5":
            f"#!/bin/sh\ntouch {markers / 'provider-binary'}\n",
        "cfn/stack.yaml": """\
            AWSTemplateFormatVersion: "2010-09-09"
            Transform: [AWS::Serverless-2016-10-31]
            Resources:
              Network:
                Type: AWS::CloudFormation::Stack
                Properties:
                  TemplateURL: https://s3.amazonaws.com/acme-templates/network.yaml
              Shared:
                Type: AWS::Serverless::Application
                Properties:
                  Location:
                    ApplicationId: arn:aws:serverlessrepo:us-east-1:123456789012:applications/shared
                    SemanticVersion: 1.0.0
              Included:
                Type: AWS::SNS::Topic
                Properties:
                  Fn::Transform:
                    Name: AWS::Include
                    Parameters:
                      Location: s3://acme-templates/topic.yaml
              Handler:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: src/
                  Handler: app.handler
                  Runtime: python3.12
            """,
        "cfn/src/app.py": marker_script(markers, "lambda-code"),
        "cdk.json": json.dumps({"app": "python3 cdk_app.py"}),
        "cdk_app.py": marker_script(markers, "cdk-app"),
        "cdktf.json": json.dumps({"language": "python", "app": "python3 cdktf_main.py"}),
        "cdktf_main.py": marker_script(markers, "cdktf-app"),
        "Makefile": f"all:\n\ttouch {markers / 'make'}\n",
    }
    # Python files named like what mllint or Python itself imports: `python -m mllint` run
    # from the repository must not import them.
    for module in ("click", "yaml", "tfparse", "jsonschema", "sitecustomize", "usercustomize", "conftest", "setup"):
        files[f"{module}.py"] = marker_script(markers, f"{module}.py")
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    provider = next((repo / "infra" / ".terraform").rglob("terraform-provider-aws_*"))
    provider.chmod(provider.stat().st_mode | stat.S_IXUSR)


class Recorder(socketserver.ThreadingTCPServer):
    """A local HTTP proxy that records what connects to it and answers nothing."""

    daemon_threads = True

    def __init__(self) -> None:
        self.seen: list[bytes] = []
        super().__init__(("127.0.0.1", 0), _RecordRequest)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _RecordRequest(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.server.seen.append(self.request.recv(512))


def guarded_env(tmp: Path, proxy: Recorder, markers: Path) -> dict[str, str]:
    """The environment of a guarded run: the sitecustomize guard, the proxy, fake tools on PATH."""
    guard_dir, tools = tmp / "guard", tmp / "tools"
    guard_dir.mkdir(exist_ok=True)
    (guard_dir / "sitecustomize.py").write_text(GUARD)
    tools.mkdir(exist_ok=True)
    for tool in TOOLS:
        path = tools / tool
        path.write_text(f"#!/bin/sh\ntouch {markers / ('tool-' + tool)}\nexit 1\n")
        path.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k.upper() not in ("NO_PROXY", "PYTHONPATH")}
    env.update({
        "PYTHONPATH": str(guard_dir), "MLLINT_GUARD_LOG": str(tmp / "guard.log"),
        "PATH": f"{tools}{os.pathsep}{env.get('PATH', '')}", "NO_COLOR": "1",
        **{name: proxy.url for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")},
    })
    return env


MLLINT = Path(sys.executable).parent / "mllint"
# Workers are spawned when the parent already runs tfparse's Go runtime (mllint.workers._context).
SPAWNING_LAUNCHER = "import sys, tfparse; from mllint.cli import main; sys.argv[0] = 'mllint'; main()"


@pytest.fixture(scope="module")
def guarded_scans(tmp_path_factory):
    """The hostile repository scanned three ways; per run: exit status, report, guard log lines."""
    tmp = tmp_path_factory.mktemp("safety")
    repo, markers = tmp / "repo", tmp / "markers"
    markers.mkdir()
    hostile_repository(repo, markers)
    proxy = Recorder()
    env = guarded_env(tmp, proxy, markers)
    args = ["scan", "--format", "json", "--jobs", "2"]
    runs = {  # the command, where it runs, where the Terraform file is relative to that
        "mllint command, forked workers": ([str(MLLINT), *args, "."], repo, "infra/main.tf"),
        "python -m mllint in the repository": ([sys.executable, "-m", "mllint", *args, "."], repo, "infra/main.tf"),
        "spawned workers": ([sys.executable, "-c", SPAWNING_LAUNCHER, *args, "repo"], tmp, "repo/infra/main.tf"),
    }
    results = {}
    log = Path(env["MLLINT_GUARD_LOG"])
    for name, (command, cwd, tf_file) in runs.items():
        log.write_text("")
        run = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
        results[name] = (run, log.read_text().splitlines(), tf_file)
    proxy.shutdown()
    proxy.server_close()
    return results, proxy.seen, markers


def test_scan_opens_no_network_connection(guarded_scans):
    results, proxy_seen, _ = guarded_scans
    for name, (run, log, tf_file) in results.items():
        assert run.returncode == 1, (name, run.stderr)
        report = json.loads(run.stdout)
        assert report["errors"] == [], name
        assert ("ML101", "aws_ecs_task_definition.train", tf_file) in {
            (f["policy"]["id"], f["address"], f["file"]) for f in report["findings"]
        }, name
        assert [line for line in log if not line.endswith(" guard installed")] == [], name
        assert log, f"{name}: the guard was not loaded"
    _, spawned_log, _ = results["spawned workers"]
    assert len({line.split()[0] for line in spawned_log}) >= 2, "no spawned worker loaded the guard"
    assert proxy_seen == []


def test_scan_runs_nothing_from_the_scanned_repository(guarded_scans):
    results, _, markers = guarded_scans
    assert all(run.returncode == 1 for run, _, _ in results.values())
    assert sorted(p.name for p in markers.iterdir()) == []


def test_the_detectors_see_what_they_guard_against(tmp_path: Path):
    """Each detector catches the attempt it exists for, so the tests above can fail: a Python
    connection, and tfparse downloading a registry and a git module (Go HTTP and `git`)."""
    markers = tmp_path / "markers"
    markers.mkdir()
    proxy = Recorder()
    env = guarded_env(tmp_path, proxy, markers)
    module = tmp_path / "module"
    module.mkdir()
    (module / "main.tf").write_text(
        'module "batch" {\n  source  = "terraform-aws-modules/batch/aws"\n  version = "~> 3.0"\n}\n'
        'module "vpc" {\n  source = "git::https://github.com/terraform-aws-modules/terraform-aws-vpc.git"\n}\n'
    )
    python = subprocess.run(
        [sys.executable, "-c", "import socket; socket.create_connection(('registry.terraform.io', 443), timeout=2)"],
        env=env, capture_output=True, text=True, check=False, timeout=60,
    )
    assert python.returncode != 0
    assert "network use blocked by the test guard" in python.stderr
    assert "create_connection ('registry.terraform.io', 443)" in Path(env["MLLINT_GUARD_LOG"]).read_text()
    downloads = subprocess.run(
        [sys.executable, "-c", f"import tfparse; tfparse.load_from_path({str(module)!r}, allow_downloads=True)"],
        env=env, capture_output=True, text=True, check=False, timeout=120, cwd=tmp_path,
    )
    proxy.shutdown()
    proxy.server_close()
    assert any(seen.startswith(b"CONNECT registry.terraform.io:443") for seen in proxy.seen), (proxy.seen, downloads.stderr)
    assert (markers / "tool-git").exists()
