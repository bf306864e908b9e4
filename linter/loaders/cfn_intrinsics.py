"""Evaluate CloudFormation intrinsic functions where their inputs are known statically.

A value that depends on something only known at deploy time becomes `UNKNOWN`;
a reference to a resource of the template becomes a `Link` and is recorded in
`refs`, also when the value around it is unknown. Conditions are evaluated with the
parameters' defaults; each one that decided a value is recorded, so that findings
can say they hold only when it has that value. `Fn::ForEach` loops are expanded
(`mllint.loaders.cfn_foreach`).
"""
from __future__ import annotations

import json
import re
from typing import Any, Mapping

from mllint.loaders.cfn_foreach import LoopError, expand, is_loop
from mllint.records import UNKNOWN, Link

NO_VALUE = object()  # `AWS::NoValue`: its enclosing key or list item is removed
# Pseudo parameters stay as `${AWS::Region}` text inside Fn::Sub / Fn::Join strings, so the
# rest of an image URI or ARN (the repository, the tag, the resource name) is still known.
# A pseudo parameter on its own is UNKNOWN.
PSEUDO_PARAMETERS = {"AWS::AccountId", "AWS::Region", "AWS::Partition", "AWS::URLSuffix", "AWS::StackName", "AWS::StackId"}
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def intrinsic_name(value: Any) -> str | None:
    """`Ref` / `Fn::X` when `value` is an intrinsic function call, else None
    (`Fn::ForEach::Name` is a loop that generates keys, not a call)."""
    if isinstance(value, dict) and len(value) == 1:
        name = next(iter(value))
        if name == "Ref" or (name.startswith("Fn::") and not is_loop(name)):
            return name
    return None


def parameter_values(parameters: Any, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The value of each parameter: the one `given` for it (what a parent stack passes,
    UNKNOWN when that can't be known), else its usable `Default`."""
    values: dict[str, Any] = {}
    given = given or {}
    for name, spec in (parameters.items() if isinstance(parameters, dict) else ()):
        if not isinstance(spec, dict) or (name not in given and spec.get("Default") is None):
            continue
        kind, default = str(spec.get("Type", "")), given[name] if name in given else spec["Default"]
        if kind.startswith("AWS::SSM::Parameter::Value<"):
            continue  # the default names an SSM parameter; its value is not in the template
        if (kind == "CommaDelimitedList" or kind.startswith("List<")) and isinstance(default, str):
            default = [item.strip() for item in default.split(",")]
        values[name] = default
    return values


def _text(value: Any) -> str | None:
    """`value` as it reads inside a string, or None when it is not a known scalar."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def _pseudo_text(raw: Any) -> str | None:
    """`${AWS::Region}` for a raw `{"Ref": "AWS::Region"}`, else None."""
    if intrinsic_name(raw) == "Ref" and isinstance(raw["Ref"], str) and raw["Ref"] in PSEUDO_PARAMETERS:
        return "${" + raw["Ref"] + "}"
    return None


# What `Ref` (attr None) or `Fn::GetAtt` returns when it is the resource's own name property:
# inside Fn::Sub / Fn::Join that name is read from the template when it is literal.
RETURNED_NAMES = {
    ("AWS::ECS::Cluster", None): "ClusterName",
    ("AWS::ECS::Service", "Name"): "ServiceName",
    ("AWS::Lambda::Function", None): "FunctionName",
    ("AWS::SageMaker::Endpoint", "EndpointName"): "EndpointName",
    ("AWS::SageMaker::EndpointConfig", "EndpointConfigName"): "EndpointConfigName",
    ("AWS::SageMaker::Model", "ModelName"): "ModelName",
}


class Resolver:
    """Resolves property values against one template's parameters, mappings and resources.

    `bodies` holds the template's resources with `Fn::ForEach` loops expanded; `origins`
    maps each to the `Resources` key it was written under (the loop's, for a generated one);
    `problems` holds (loop key, message) for each loop that can't be expanded. A loop whose
    collection can't be known generates nothing. Inside properties, a malformed loop raises
    `LoopError`."""

    basis = "parameter defaults"  # what conditions are evaluated with, as findings say it

    def __init__(self, template: dict, parameters: Mapping[str, Any] | None = None):
        self.parameters = parameter_values(template.get("Parameters"), parameters)
        if parameters is not None:
            self.basis = "the values its parent stack passes"
        mappings = template.get("Mappings")
        self.mappings = mappings if isinstance(mappings, dict) else {}
        self.refs: set[str] = set()
        self.decided: dict[str, bool] = {}  # conditions that decided a value, in the order met
        self.assumed: dict[str, bool] = {}  # conditions taken as given (the resource's own)
        self._naming: set[str] = set()  # resources whose name is being resolved (guards cycles)
        self._deciding: set[str] = set()  # conditions being evaluated (an Fn::If inside one can name it)
        self.conditions: dict[str, Any] = {}
        self.bodies: dict[str, Any] = {}
        self.origins: dict[str, str] = {}
        self.problems: list[tuple[str, str]] = []
        self.resources: set[str] = set()  # empty while loops are expanded: collections are static
        conditions = template.get("Conditions")
        self.conditions = dict(self._expanded(conditions)) if isinstance(conditions, dict) else {}
        resources = template.get("Resources")
        self._expand_resources(resources if isinstance(resources, dict) else {})
        self.resources = set(self.bodies)

    def resolve_properties(self, properties: Any, condition: str | None = None) -> tuple[Any, set[str], tuple[str, ...]]:
        """The resolved properties (a dict, NO_VALUE or UNKNOWN), the logical ids of the
        resources they reference, and the notes on the conditions they depend on: the
        resource's own `condition` (assumed true while resolving) and each condition an
        `Fn::If` decided."""
        self.refs, self.decided = set(), {}
        self.assumed = {condition: True} if condition else {}
        try:
            props = self.resolve(properties)
        finally:
            self.assumed = {}
        notes = [self.own_condition_note(condition)] if condition else []
        notes += [self.decided_note(name, verdict) for name, verdict in self.decided.items()]
        return props, self.refs, tuple(dict.fromkeys(notes))

    def own_condition_note(self, name: str) -> str:
        verdict = self.condition(name)
        if verdict is None:
            return f"only when condition {name} is true ({self.basis} do not decide it)"
        state = "evaluated" if verdict else "false"
        return f"only when condition {name} is true ({state} with {self.basis})"

    def decided_note(self, name: str, verdict: bool) -> str:
        """An `Fn::If` chose some of the resource's values; the finding may or may not hang on them."""
        return f"values chosen by condition {name} ({'true' if verdict else 'false'} with {self.basis})"

    def resolve(self, value: Any) -> Any:
        name = intrinsic_name(value)
        if name is not None:
            return self._call(name, value[name])
        if isinstance(value, dict):
            if any(is_loop(key) for key in value):
                entries, complete = expand(value, self._collection)
                if not complete:  # keys left out would read as "not set"
                    self.resolve([item for _, item, _ in entries])
                    return UNKNOWN
                value = {key: item for key, item, _ in entries}
            resolved = {key: self.resolve(item) for key, item in value.items()}
            return {key: item for key, item in resolved.items() if item is not NO_VALUE}
        if isinstance(value, list):
            return [item for item in map(self.resolve, value) if item is not NO_VALUE]
        return value

    def _expand_resources(self, resources: dict) -> None:
        for origin, body in resources.items():
            try:
                entries = expand({origin: body}, self._collection)[0]
                taken = [key for key, _, _ in entries if key in self.bodies or (key != origin and key in resources)]
                if taken:
                    raise LoopError(f"{origin} generates {taken[0]}, which is already defined")
            except LoopError as exc:
                self.problems.append((origin, str(exc)))
                continue
            for key, item, _ in entries:
                self.bodies[key], self.origins[key] = item, origin

    def _expanded(self, mapping: dict) -> list[tuple[str, Any]]:
        """A mapping's entries with loops expanded; a malformed loop is left out."""
        try:
            return [(key, value) for key, value, _ in expand(mapping, self._collection)[0]]
        except LoopError:
            return [(key, value) for key, value in mapping.items() if not is_loop(key)]

    def _collection(self, value: Any) -> list[str] | None:
        """A loop's collection as strings, or None when it can't be known."""
        refs, decided = self.refs, self.decided
        try:
            items = self.resolve(value)
        finally:
            self.refs, self.decided = refs, decided
        if not isinstance(items, list):
            return None
        texts = [_text(item) for item in items]
        return None if None in texts else texts

    def _call(self, name: str, args: Any) -> Any:
        handler = _FUNCTIONS.get(name)
        if handler is None:  # Fn::GetAZs, Fn::ImportValue, Fn::Cidr, Fn::Transform, ...
            self.resolve(args)  # still records the resources it references
            return UNKNOWN
        return handler(self, args)

    def _args(self, args: Any, *counts: int) -> list | None:
        """The resolved arguments when there are `counts` of them, else None."""
        if isinstance(args, list) and len(args) in counts:
            return [self.resolve(arg) for arg in args]
        self.resolve(args)
        return None

    def _ref(self, name: Any) -> Any:
        if not isinstance(name, str):
            self.resolve(name)
            return UNKNOWN
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.resources:
            self.refs.add(name)
            return Link(name)
        value = self.parameters.get(name, UNKNOWN)  # pseudo parameters: UNKNOWN
        return list(value) if isinstance(value, list) else value

    def _in_text(self, value: Any) -> str | None:
        """`value` as it reads inside a string: a Link to a resource whose `Ref` / attribute is its
        literal name (RETURNED_NAMES) reads as that name; anything else unknown is None."""
        if isinstance(value, Link):
            body = self.bodies.get(value.address)
            kind = body.get("Type") if isinstance(body, dict) else None
            key = RETURNED_NAMES.get((kind, value.attr)) if isinstance(kind, str) else None
            properties = body.get("Properties") if isinstance(body, dict) else None
            if key and isinstance(properties, dict) and value.address not in self._naming:
                self._naming.add(value.address)
                try:
                    name = self.resolve(properties.get(key))
                except LoopError:
                    name = None
                finally:
                    self._naming.discard(value.address)
                return name if isinstance(name, str) else None
            return None
        return _text(value)

    def _get_att(self, args: Any) -> Any:
        if isinstance(args, str):
            args = args.split(".", 1)
        target = args[0] if isinstance(args, list) and len(args) == 2 else None
        if not isinstance(target, str) or target not in self.resources:
            self.resolve(args)
            return UNKNOWN
        attribute = self.resolve(args[1])
        self.refs.add(target)
        return Link(target, attribute) if isinstance(attribute, str) else UNKNOWN

    def _sub(self, args: Any) -> Any:
        if isinstance(args, str):
            template, variables = args, {}
        elif isinstance(args, list) and len(args) == 2 and isinstance(args[0], str):
            template, variables = args[0], self.resolve(args[1])
        else:
            self.resolve(args)
            return UNKNOWN
        known = isinstance(variables, dict)
        variables = variables if known else {}

        def substitute(match: re.Match) -> str:
            nonlocal known
            name = match.group(1).strip()
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                text = _text(variables[name])
            elif name in PSEUDO_PARAMETERS:
                text = "${" + name + "}"
            else:
                text = self._in_text(self._get_att(name) if "." in name else self._ref(name))
            known = known and text is not None
            return text or ""

        result = _SUB_VARIABLE.sub(substitute, template)
        return result if known else UNKNOWN

    def _join(self, args: Any) -> Any:
        raw_parts = args[1] if isinstance(args, list) and len(args) == 2 and isinstance(args[1], list) else None
        args = self._args(args, 2)
        if args is None or not isinstance(args[0], str) or not isinstance(args[1], list):
            return UNKNOWN
        if raw_parts is not None and len(raw_parts) == len(args[1]):
            parts = [_pseudo_text(raw) or self._in_text(item) for raw, item in zip(raw_parts, args[1])]
        else:
            parts = [self._in_text(item) for item in args[1]]
        return UNKNOWN if None in parts else args[0].join(parts)

    def _select(self, args: Any) -> Any:
        args = self._args(args, 2)
        if args is None or not isinstance(args[1], list):
            return UNKNOWN
        index = _text(args[0])
        if index is None or not index.isdigit() or int(index) >= len(args[1]):
            return UNKNOWN
        return args[1][int(index)]

    def _split(self, args: Any) -> Any:
        args = self._args(args, 2)
        if args is None or not all(isinstance(arg, str) for arg in args) or not args[0]:
            return UNKNOWN
        return args[1].split(args[0])

    def _base64(self, args: Any) -> Any:
        value = self.resolve(args)
        return value if isinstance(value, str) else UNKNOWN

    def _length(self, args: Any) -> Any:
        """`Fn::Length`: the number of items of a list whose items are all known."""
        value = self.resolve(args)
        if not isinstance(value, list) or any(item is UNKNOWN for item in value):
            return UNKNOWN
        return len(value)

    def _to_json_string(self, args: Any) -> Any:
        """`Fn::ToJsonString`: a mapping or list as compact JSON, when every value in it is known."""
        value = self.resolve(args)
        if not isinstance(value, (dict, list)) or not _plain(value):
            return UNKNOWN
        return json.dumps(value, separators=(",", ":"))

    def _find_in_map(self, args: Any) -> Any:
        args = self._args(args, 3, 4)
        if args is None:
            return UNKNOWN
        keys = [_text(key) for key in args[:3]]
        if None in keys:
            return UNKNOWN
        default = args[3] if len(args) == 4 and isinstance(args[3], dict) else {}
        value: Any = self.mappings
        for key in keys:
            if not isinstance(value, dict) or key not in value:
                return default.get("DefaultValue", UNKNOWN)
            value = value[key]
        return self.resolve(value)  # a copy

    def _if(self, args: Any) -> Any:
        """`Fn::If [condition, a, b]`: the branch the condition picks with the parameters'
        defaults; when the condition can't be evaluated, the value both branches agree on.
        A condition that picked between differing values is recorded in `decided`, with
        the conditions that decided the picked branch (the other branch only adds refs)."""
        if not (isinstance(args, list) and len(args) == 3):
            self.resolve(args)
            return UNKNOWN
        condition = args[0]
        verdict = self.condition(condition) if isinstance(condition, str) else None
        before = dict(self.decided)
        if verdict is None:
            first, second = self.resolve(args[1]), self.resolve(args[2])
            if first == second:
                return first
            self.decided = before  # nothing was decided: the value is unknown
            return UNKNOWN
        picked = self.resolve(args[1] if verdict else args[2])
        chosen = dict(self.decided)
        other = self.resolve(args[2] if verdict else args[1])
        self.decided = chosen
        if picked != other and condition not in self.assumed:
            self.decided.setdefault(condition, verdict)
        return picked

    def condition(self, name: str, seen: frozenset = frozenset()) -> bool | None:
        """The value of a named condition with the parameters' defaults (or as assumed),
        or None if unknown."""
        if name in self.assumed:
            return self.assumed[name]
        if name in seen or name in self._deciding or name not in self.conditions:
            return None
        self._deciding.add(name)
        try:
            return self._truth(self.conditions[name], seen | {name})
        finally:
            self._deciding.discard(name)

    def _truth(self, expression: Any, seen: frozenset) -> bool | None:
        name = intrinsic_name(expression) or (next(iter(expression)) if isinstance(expression, dict) and len(expression) == 1 else None)
        args = expression.get(name) if name else None
        if name == "Condition" and isinstance(args, str):
            return self.condition(args, seen)
        if not isinstance(args, list):
            return None
        if name == "Fn::Equals" and len(args) == 2:
            left, right = (_text(self.resolve(arg)) for arg in args)
            return None if left is None or right is None else left == right
        verdicts = [self._truth(arg, seen) for arg in args]
        if name == "Fn::Not" and len(verdicts) == 1:
            return None if verdicts[0] is None else not verdicts[0]
        if name == "Fn::And":
            return False if False in verdicts else (None if None in verdicts else True)
        if name == "Fn::Or":
            return True if True in verdicts else (None if None in verdicts else False)
        return None


def _plain(value: Any) -> bool:
    """Whether `value` is plain data: no UNKNOWN and no Link anywhere in it."""
    if isinstance(value, dict):
        return all(_plain(item) for item in value.values())
    if isinstance(value, list):
        return all(_plain(item) for item in value)
    return value is None or isinstance(value, (str, int, float, bool))


_FUNCTIONS = {
    "Ref": Resolver._ref,
    "Fn::GetAtt": Resolver._get_att,
    "Fn::Sub": Resolver._sub,
    "Fn::Join": Resolver._join,
    "Fn::Select": Resolver._select,
    "Fn::Split": Resolver._split,
    "Fn::Base64": Resolver._base64,
    "Fn::FindInMap": Resolver._find_in_map,
    "Fn::If": Resolver._if,
    "Fn::Length": Resolver._length,
    "Fn::ToJsonString": Resolver._to_json_string,
}
