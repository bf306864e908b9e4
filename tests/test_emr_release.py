"""ML306 evidence: a release label older than auto-termination policies is named in the finding."""
import pytest

from conftest import FIXTURES, run_scan
from mllint.facts.emr import cluster_facts
from mllint.facts.signals import Signals
from mllint.graph import UnitGraph
from mllint.records import UNKNOWN, Resource

TOO_OLD = "predates auto-termination policies"


def _evidence(release_label) -> list[str]:
    cluster = Resource("terraform", "aws_emr_cluster", "aws_emr_cluster.c", "main.tf", 1, ".", {"release_label": release_label})
    return cluster_facts(cluster, UnitGraph([cluster]), Signals("aws_emr_cluster"))["termination_evidence"]


@pytest.mark.parametrize("label", ["emr-5.29.0", "emr-4.9.6", "emr-6.0.0", "emr-6.0.1"])
def test_a_release_before_auto_termination_is_named(label):
    assert [e for e in _evidence(label) if TOO_OLD in e] == [
        f"{label} predates auto-termination policies (EMR 5.30.0 and 6.1.0 and later): make it transient or upgrade"
    ]


@pytest.mark.parametrize("label", ["emr-5.30.0", "emr-5.36.2", "emr-6.1.0", "emr-6.15.0", "emr-7.2.0", UNKNOWN, None, "emr-latest"])
def test_a_recent_or_unknown_release_adds_nothing(label):
    evidence = _evidence(label)
    assert evidence[1:] == ["no auto_termination_policy"]  # keep-alive, then the missing policy only


def test_the_finding_on_a_legacy_cluster_carries_the_note():
    case = FIXTURES / "ML306" / "terraform" / "legacy_release_clusters"
    report = run_scan(case, root=FIXTURES / "ML306")
    [finding] = [f for f in report.findings if f.policy_id == "ML306"]
    assert finding.address == "aws_emr_cluster.clickstream_sessions"
    assert any(e.startswith(f"emr-5.29.0 {TOO_OLD}") for e in finding.evidence)
