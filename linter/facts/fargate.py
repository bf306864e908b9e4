"""Task sizes on Fargate: the CPU/memory pairs Fargate offers, read from ECS and Batch spellings.

The table is the ECS developer guide's (task-cpu-memory-error.html; the same as the
VCPU-keyed list of the Batch ResourceRequirement reference). Windows tasks take
1, 2 or 4 vCPU only.
"""
from __future__ import annotations

import re
from typing import Any

from mllint.facts.access import as_number, as_str_list, blocks, decode_json, get
from mllint.records import UNKNOWN, Resource

MEMORY_FOR_CPU = {  # CPU units -> memory sizes (MiB) Fargate offers with them
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
    8192: tuple(range(16384, 61441, 4096)),
    16384: tuple(range(32768, 122881, 8192)),
}
WINDOWS_CPU = (1024, 2048, 4096)
ALL_MEMORY = sorted({m for sizes in MEMORY_FOR_CPU.values() for m in sizes})
# The MEMORY-keyed list of the Batch reference also allows 8 vCPU with 8192 MiB,
# which the VCPU-keyed list and ECS do not: left undecided for Batch jobs.
BATCH_UNDECIDED = {(8192, 8192)}
_VCPU = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*vcpus?\s*$", re.IGNORECASE)
_GB = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*gb\s*$", re.IGNORECASE)


def ecs_task_size(td: Resource) -> dict:
    """Size facts of an ECS task definition from its task-level `cpu` and `memory`.

    When the task definition requires FARGATE compatibility, an unset cpu or memory
    is invalid (Fargate requires both at task level); otherwise an unset value is
    simply not known to Fargate.
    """
    cpu = _ecs_units(get(td.props, "cpu"), _VCPU, 1024)
    memory = _ecs_units(get(td.props, "memory"), _GB, 1024)
    missing = [name for name, value in (("cpu", cpu), ("memory", memory)) if value is None]
    compatibilities = as_str_list(get(td.props, "requires_compatibilities"))
    requires_fargate = isinstance(compatibilities, list) and "FARGATE" in (c.upper() for c in compatibilities)
    if missing and requires_fargate:
        return {
            "fargate_size_valid": False,
            "fargate_size_problem": f"no task-level {' or '.join(missing)}; Fargate requires task-level cpu and memory",
            **_known_size(cpu, memory),
        }
    windows = _is_windows(get(td.props, "runtime_platform", "operating_system_family"))
    return _size_facts(_or_unknown(cpu), _or_unknown(memory), windows)


def batch_job_size(jd: Resource) -> dict:
    """Size facts of a Batch job definition from the VCPU and MEMORY requirements of `container_properties`.

    Unset values stay unknown (the legacy `vcpus`/`memory` fields are not read); on
    Windows only the Linux table is applied, as the Batch reference lists no Windows sizes.
    """
    container = decode_json(get(jd.props, "container_properties"))
    if not isinstance(container, dict):
        return {}
    requirements = _requirements(container)
    cpu = as_number(requirements.get("VCPU"))
    memory = as_number(requirements.get("MEMORY"))
    cpu = UNKNOWN if cpu is None or cpu is UNKNOWN else cpu * 1024
    memory = UNKNOWN if memory is None else memory
    windows = _is_windows(get(container, "runtime_platform", "operating_system_family"))
    facts = _size_facts(cpu, memory, UNKNOWN if windows is not False else False)
    if (cpu, memory) in BATCH_UNDECIDED:
        facts.pop("fargate_size_valid", None)
    return facts


def _requirements(container: dict) -> dict[str, Any]:
    """VCPU / MEMORY values of a container's resourceRequirements; UNKNOWN when they can't be read."""
    entries = blocks(get(container, "resource_requirements"))
    if entries is UNKNOWN:
        return {"VCPU": UNKNOWN, "MEMORY": UNKNOWN}
    found: dict[str, Any] = {}
    for entry in entries:
        kind = get(entry, "type")
        if not isinstance(kind, str):
            return {"VCPU": UNKNOWN, "MEMORY": UNKNOWN}
        key = kind.upper()
        found[key] = UNKNOWN if key in found else get(entry, "value")
    return found


def _ecs_units(value: Any, unit: re.Pattern, per_unit: int) -> Any:
    """A task-level cpu or memory value as an integer (CPU units or MiB); None if unset."""
    if value is None or value is UNKNOWN:
        return value
    spelled = unit.match(value) if isinstance(value, str) else None
    if spelled:
        scaled = float(spelled.group(1)) * per_unit
        return int(scaled) if scaled.is_integer() else UNKNOWN
    number = as_number(value)
    return number if isinstance(number, int) else UNKNOWN


def _is_windows(family: Any) -> Any:
    """True for a Windows operating system family, False for Linux (the default), else UNKNOWN."""
    if family is None:
        return False
    if isinstance(family, str):
        if family.upper().startswith("WINDOWS"):
            return True
        if family.upper() == "LINUX":
            return False
    return UNKNOWN


def _or_unknown(value: Any) -> Any:
    return UNKNOWN if value is None else value


def _known_size(cpu: Any, memory: Any) -> dict:
    return {"fargate_cpu_units": cpu, "fargate_memory_mib": memory}


def _size_facts(cpu: Any, memory: Any, windows: Any) -> dict:
    """`fargate_cpu_units`, `fargate_memory_mib`, `fargate_size_valid` and, when invalid, `fargate_size_problem`."""
    valid = offered(cpu, memory, windows)
    facts = {**_known_size(cpu, memory), "fargate_size_valid": valid}
    if valid is False:
        facts["fargate_size_problem"] = _problem(cpu, memory, windows)
    return facts


def offered(cpu: Any, memory: Any, windows: Any) -> Any:
    """True if Fargate offers the pair under every reading of what is unknown, False under none, else UNKNOWN."""
    cpus = list(MEMORY_FOR_CPU) if cpu is UNKNOWN else [cpu]
    memories = ALL_MEMORY if memory is UNKNOWN else [memory]
    systems = [False, True] if windows is UNKNOWN else [windows]
    answers = {_offers(c, m, w) for c in cpus for m in memories for w in systems}
    return answers.pop() if len(answers) == 1 else UNKNOWN


def _offers(cpu: float, memory: float, windows: bool) -> bool:
    if windows and cpu not in WINDOWS_CPU:
        return False
    return memory in MEMORY_FOR_CPU.get(cpu, ())


def _problem(cpu: Any, memory: Any, windows: Any) -> str:
    """Why the size is not offered, with the sizes that are."""
    if cpu is UNKNOWN:
        return f"no Fargate CPU size offers {_mib(memory)}" + (" on Windows" if windows is True else "")
    if cpu not in MEMORY_FOR_CPU:
        return f"{_vcpu(cpu)} is not a Fargate CPU size; Fargate offers 0.25, 0.5, 1, 2, 4, 8 or 16 vCPU"
    if windows is True and cpu not in WINDOWS_CPU:
        return f"{_vcpu(cpu)} is not offered for Windows; Windows tasks on Fargate take 1, 2 or 4 vCPU"
    return f"{_vcpu(cpu)} with {_mib(memory)}; with {cpu / 1024:g} vCPU Fargate offers {_options(MEMORY_FOR_CPU[cpu])}"


def _vcpu(cpu: float) -> str:
    return f"{cpu / 1024:g} vCPU ({cpu:g} CPU units)"


def _mib(memory: float) -> str:
    return f"{memory:g} MiB"


def _options(sizes: tuple[int, ...]) -> str:
    if len(sizes) <= 3:
        return ", ".join(str(s) for s in sizes[:-1]) + f" or {sizes[-1]} MiB"
    return f"{sizes[0]} to {sizes[-1]} MiB in steps of {sizes[1] - sizes[0]} MiB"
