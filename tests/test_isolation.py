"""The scan path never imports checkov, and the wheel carries its data."""
from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

from conftest import REPO

BLOCK_CHECKOV = """
import sys

class BlockCheckov:
    def find_spec(self, name, path=None, target=None):
        if name == "checkov" or name.startswith("checkov."):
            sys.stderr.write("IMPORTED-CHECKOV\\n")
            raise ImportError("checkov must not be imported by mllint scan")
        return None

sys.meta_path.insert(0, BlockCheckov())
from mllint.cli import main
sys.argv = ["mllint", "scan", "--jobs", "2", "--format", "json", sys.argv[1]]
main()
"""


def test_scan_never_imports_checkov(tmp_path: Path):
    run = subprocess.run(
        [sys.executable, "-c", BLOCK_CHECKOV, str(REPO / "examples" / "ml-platform")],
        capture_output=True, text=True, check=False,
    )
    assert "IMPORTED-CHECKOV" not in run.stderr
    assert run.returncode == 1, run.stderr  # the example has findings and no errors
    assert '"ML101"' in run.stdout


def test_built_wheel_installs_and_scans_from_anywhere(tmp_path: Path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(REPO)],
                   check=True, capture_output=True, text=True)
    wheel = next(dist.glob("mllint-*.whl"))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True, capture_output=True, text=True)
    work = tmp_path / "work"
    work.mkdir()
    (work / "main.tf").write_text(
        'resource "aws_batch_job_definition" "train" {\n'
        '  name = "train"\n  type = "container"\n  platform_capabilities = ["FARGATE"]\n'
        '  container_properties = jsonencode({ image = "x", resourceRequirements = [{ type = "GPU", value = "1" }] })\n}\n'
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    run = subprocess.run([str(env_dir / "bin" / "mllint"), "scan", "."], cwd=work, env=env,
                         capture_output=True, text=True, check=False)
    assert run.returncode == 1, run.stderr
    assert "ML101 gpu-on-fargate  aws_batch_job_definition.train  main.tf:1" in run.stdout
    listing = subprocess.run([str(env_dir / "bin" / "mllint"), "policies"], cwd=work, env=env,
                             capture_output=True, text=True, check=True)
    assert "ML302" in listing.stdout
    location = subprocess.run([str(python), "-c", "import mllint.paths as p; print(p.policies_dir())"],
                              cwd=work, env=env, capture_output=True, text=True, check=True)
    assert "site-packages" in location.stdout
