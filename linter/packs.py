"""Policy packs installed with pip, found through the entry point group `mllint.policies`.

An entry point names a package (or module); the directory that holds it is a
policy directory, read like `--policy-dir`:

    [project.entry-points."mllint.policies"]
    acme = "acme_mllint_policies"

The package is located, not imported (for a dotted name, Python imports the
parent packages to find it); an object part (`pkg:attr`) is not allowed.
"""
from __future__ import annotations

from importlib.metadata import entry_points
from importlib.util import find_spec
from pathlib import Path

from mllint.policy import PolicyError

GROUP = "mllint.policies"


def installed_pack_dirs() -> list[Path]:
    """The policy directory of every installed pack, in entry point name order."""
    return [_directory(ep) for ep in sorted(entry_points(group=GROUP), key=lambda ep: (ep.name, ep.value))]


def _directory(ep) -> Path:
    where = f"entry point {ep.name} = {ep.value} (group {GROUP}{_distribution(ep)})"
    if ep.attr:
        raise PolicyError(f"{where}: name a package whose directory holds the policies, without ':{ep.attr}'")
    try:
        spec = find_spec(ep.module)
    except (ImportError, ValueError) as exc:
        raise PolicyError(f"{where}: cannot locate {ep.module!r}: {exc}") from None
    if spec is None:
        raise PolicyError(f"{where}: no installed package or module {ep.module!r}")
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    if spec.origin and spec.has_location:
        return Path(spec.origin).parent
    raise PolicyError(f"{where}: {ep.module!r} has no directory on disk")


def _distribution(ep) -> str:
    dist = getattr(ep, "dist", None)
    return f", distribution {dist.name} {dist.version}" if dist else ""
