"""What the IAM roles of a unit allow, read from the policies declared beside them.

Only policy documents written in the unit count (inline policies, role policies,
customer managed policies attached in the unit); AWS managed policies and policy
documents that can't be read (a data source, an unresolved variable) are left out,
so a permission is only ever claimed from a statement that says so.
"""
from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from mllint.facts.access import blocks, decode_json, get
from mllint.graph import UnitGraph
from mllint.records import Resource

ROLE_TYPES = ("aws_iam_role", "AWS::IAM::Role")
POLICY_TYPES = ("aws_iam_policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::Policy")
# Resources that attach a policy document to roles: (type, key of the role(s), key of the document).
ROLE_POLICIES = (
    ("aws_iam_role_policy", "role", "policy"),
    ("AWS::IAM::RolePolicy", "role_name", "policy_document"),
    ("AWS::IAM::Policy", "roles", "policy_document"),
    ("AWS::IAM::ManagedPolicy", "roles", "policy_document"),
)


def role_statements(role: Resource, graph: UnitGraph) -> list[dict]:
    """The readable statements of every policy the unit gives `role`."""
    documents = [get(p, "policy") for p in blocks(get(role.props, "inline_policy")) or []]
    documents += [get(p, "policy_document") for p in blocks(get(role.props, "policies")) or []]
    arns = get(role.props, "managed_policy_arns")
    for arn in arns if isinstance(arns, list) else []:
        policy = graph.resolve(arn, *POLICY_TYPES)
        if isinstance(policy, Resource):
            documents.append(first_document(policy))
    for kind, role_key, document_key in ROLE_POLICIES:
        for holder in graph.of_type(kind):
            targets = get(holder.props, role_key)
            if any(graph.points_at(t, role) is True for t in (targets if isinstance(targets, list) else [targets])):
                documents.append(get(holder.props, document_key))
    for attachment in graph.of_type("aws_iam_role_policy_attachment"):
        if graph.points_at(get(attachment.props, "role"), role) is True:
            policy = graph.resolve(get(attachment.props, "policy_arn"), *POLICY_TYPES)
            if isinstance(policy, Resource):
                documents.append(first_document(policy))
    return [s for document in documents for s in statements(document)]


def first_document(policy: Resource) -> Any:
    return get(policy.props, "policy") if get(policy.props, "policy") is not None else get(policy.props, "policy_document")


def statements(document: Any) -> list[dict]:
    """The statements of a policy document (a dict or a JSON string); none when unreadable."""
    found = get(decode_json(document), "statement")
    found = [found] if isinstance(found, dict) else found
    return [s for s in found if isinstance(s, dict)] if isinstance(found, list) else []


def allowed_resources(found: list[dict], action: str) -> list:
    """The `Resource` values of the statements that allow `action`.

    Empty when no statement allows it, or when a Deny statement names the action
    (whatever it denies, the allowance is then not a claim mllint makes).
    """
    resources: list = []
    for statement in found:
        actions = get(statement, "action")
        actions = [actions] if isinstance(actions, str) else actions
        if not isinstance(actions, list) or not any(isinstance(a, str) and fnmatchcase(action.lower(), a.lower()) for a in actions):
            continue
        if get(statement, "effect") != "Allow":
            return []
        value = get(statement, "resource")
        resources.extend(value if isinstance(value, list) else [value])
    return resources


def is_wildcard(resource: Any) -> bool:
    """A Resource value that covers resources it does not name (`*`, `...:job-definition/*`)."""
    return isinstance(resource, str) and "*" in resource


def execution_role(function: Resource, graph: UnitGraph) -> Resource | None:
    """The IAM role of a Lambda function, when it is declared in the unit."""
    role = graph.resolve(get(function.props, "role"), *ROLE_TYPES)
    return role if isinstance(role, Resource) else None


def function_statements(function: Resource, graph: UnitGraph) -> list[dict]:
    """Statements granted to a Lambda function: its role's, or a SAM function's inline `Policies`."""
    role = execution_role(function, graph)
    if role is not None:
        return role_statements(role, graph)
    if function.type != "AWS::Serverless::Function" or get(function.props, "role") is not None:
        return []
    policies = get(function.props, "policies")
    policies = policies if isinstance(policies, list) else [policies]
    return [s for policy in policies if isinstance(policy, dict) for s in statements(policy)]

