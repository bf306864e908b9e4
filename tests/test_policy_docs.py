"""Every policy has a doc in Ruff's shape, and the doc's examples do what they say.

policies/docs/<ID>-<name>.md must have the title `# <ID> <name>`, a line with the
policy's title and severity, and exactly the level-2 sections of SECTIONS, in order.
Each fenced block under `## Example` is a complete Terraform module (```hcl) or
CloudFormation template (```yaml) that mllint flags with exactly one finding of the
policy; each block under `## Use instead` is one it does not flag.
"""
from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mllint.paths import policies_dir
from mllint.policy import Policy, load_policies
from mllint.scan import ScanOptions, scan

SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead", "How to suppress", "References")
EXAMPLE_SECTIONS = {"Example": "fires", "Use instead": "passes"}
# Language of a fenced block -> (file name it is scanned as, unit kind mllint must discover).
BLOCK_FILES = {"hcl": ("main.tf", "terraform"), "yaml": ("template.yaml", "cloudformation")}

_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)")
_HEADING = re.compile(r"^(?P<level>#{1,6})\s+(?P<text>.*?)\s*#*\s*$")


@dataclass
class Block:
    section: str
    lang: str
    code: str
    line: int  # 1-based line of the opening fence


@dataclass
class Doc:
    headings: list[tuple[int, str, int]] = field(default_factory=list)  # (level, text, line)
    lines: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)


def parse_doc(text: str) -> Doc:
    """Headings outside fenced code, and the fenced blocks with the level-2 section they sit in."""
    doc = Doc(lines=text.splitlines())
    section = ""
    fence: str | None = None
    lang, start, body = "", 0, []
    for number, line in enumerate(doc.lines, start=1):
        if fence is not None:
            if line.strip().startswith(fence[0] * len(fence)) and not line.strip().strip(fence[0]):
                doc.blocks.append(Block(section, lang, "\n".join(body) + "\n", start))
                fence = None
            else:
                body.append(line)
            continue
        opening = _FENCE.match(line)
        if opening:
            fence, lang, start, body = opening["fence"], opening["lang"].lower(), number, []
            continue
        heading = _HEADING.match(line)
        if heading:
            level, text_ = len(heading["level"]), heading["text"]
            doc.headings.append((level, text_, number))
            if level == 2:
                section = text_
    assert fence is None, f"unclosed code fence opened on line {start}"
    return doc


def doc_path(policy: Policy) -> Path:
    return policies_dir() / "docs" / f"{policy.id}-{policy.name}.md"


POLICIES = load_policies()


def _example_cases():
    cases = []
    for policy in POLICIES:
        path = doc_path(policy)
        if not path.is_file():
            continue  # test_doc_exists reports it
        for block in parse_doc(path.read_text(encoding="utf-8")).blocks:
            if block.section in EXAMPLE_SECTIONS:
                case_id = f"{policy.id}-{block.section.replace(' ', '-').lower()}-{block.lang}-line{block.line}"
                cases.append(pytest.param(policy, block, id=case_id))
    return cases


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.id)
def test_doc_exists(policy):
    assert doc_path(policy).is_file(), f"{policy.id} has no doc at policies/docs/{doc_path(policy).name}"


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.id)
def test_help_uri_points_at_the_doc(policy):
    assert policy.help_uri.endswith("/" + doc_path(policy).name), policy.help_uri


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.id)
def test_doc_has_ruff_sections_in_order(policy):
    path = doc_path(policy)
    if not path.is_file():
        pytest.fail(f"{policy.id} has no doc at policies/docs/{path.name}")
    doc = parse_doc(path.read_text(encoding="utf-8"))

    titles = [(text, line) for level, text, line in doc.headings if level == 1]
    assert titles and titles[0][1] == 1, f"Docs for {policy.id} must start with `# {policy.id} {policy.name}`"
    assert len(titles) == 1, f"Docs for {policy.id} have more than one level-1 heading"
    assert titles[0][0] == f"{policy.id} {policy.name}", f"Docs for {policy.id} are titled `{titles[0][0]}`"

    summary = next((line for line in doc.lines[1:] if line.strip()), "")
    for expected in (policy.title, policy.severity, "Terraform", "CloudFormation"):
        assert expected in summary, f"Docs for {policy.id}: the line under the title does not mention `{expected}`"

    sections = [text for level, text, _ in doc.headings if level == 2]
    for section in SECTIONS:
        assert section in sections, f"Docs for {policy.id} are missing the `{section}` section"
    for section in sections:
        assert section in SECTIONS, f"Docs for {policy.id} have an unexpected section `{section}`"
        assert sections.count(section) == 1, f"Docs for {policy.id} have the `{section}` section twice"
    assert tuple(sections) == SECTIONS, f"Docs for {policy.id} have their sections out of order: {sections}"

    for section in EXAMPLE_SECTIONS:
        blocks = [b for b in doc.blocks if b.section == section]
        assert any(b.lang == "hcl" for b in blocks), f"Docs for {policy.id}: `{section}` has no ```hcl block"
        for block in blocks:
            assert block.lang in BLOCK_FILES, (
                f"Docs for {policy.id}: `{section}` has a ```{block.lang or '(no language)'} block on line "
                f"{block.line}; only {', '.join(BLOCK_FILES)} blocks are allowed there (they are scanned)"
            )


@pytest.mark.parametrize("policy, block", _example_cases())
def test_doc_example(policy, block, tmp_path):
    if block.lang not in BLOCK_FILES:
        pytest.fail(f"```{block.lang} block on line {block.line} cannot be scanned")
    file_name, unit_kind = BLOCK_FILES[block.lang]
    if unit_kind == "cloudformation" and importlib.util.find_spec("mllint.loaders.cloudformation") is None:
        pytest.skip("the CloudFormation loader (mllint.loaders.cloudformation) does not exist yet")
    (tmp_path / file_name).write_text(block.code, encoding="utf-8")

    report = scan(ScanOptions(paths=[tmp_path], root=tmp_path, jobs=1, select=[policy.id]))

    where = f"{doc_path(policy).name} line {block.line} ({block.section}, {block.lang})"
    assert report.errors == [], f"{where}: " + "; ".join(str(e) for e in report.errors)
    assert [u.kind for u in report.units] == [unit_kind], f"{where}: scanned as {report.units}, skipped {report.skipped}"
    found = [f for f in report.findings if f.policy_id == policy.id]
    details = "\n".join(f"{f.address}: {f.message} | {list(f.evidence)}" for f in found)
    if EXAMPLE_SECTIONS[block.section] == "fires":
        assert len(found) == 1, f"{where}: expected exactly one {policy.id} finding, got {len(found)}\n{details}"
    else:
        assert found == [], f"{where}: expected no {policy.id} finding\n{details}"
