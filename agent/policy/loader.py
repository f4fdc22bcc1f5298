"""Finding, reading and validating policy profile files; every problem is reported with the
file and the field it concerns."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from agent.policy.schema import CONSISTENCY, RULE_NAMES, ActionRule, PolicyProfile, rule_problems


class ProfileError(ValueError):
    """A policy profile that cannot be used; one line per problem, each naming file and field."""

    def __init__(self, source: str, problems: Iterable[tuple[str | None, str]]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = [f"{source}: {path}: {what}" if path else f"{source}: {what}" for path, what in self.problems]
        super().__init__("\n".join(lines))


def profile_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "profiles"


def available_profiles() -> list[str]:
    return sorted(path.stem for path in profile_dir().glob("*.yaml"))


def load_profile(name_or_path: str) -> PolicyProfile:
    """Load a shipped profile by name ("default", "tau-retail") or any profile YAML by path."""
    candidate = Path(name_or_path)
    if candidate.suffix in {".yaml", ".yml"} or len(candidate.parts) > 1:
        return _load_file(candidate)
    if name_or_path in available_profiles():
        return _load_file(profile_dir() / f"{name_or_path}.yaml")
    known = ", ".join(available_profiles())
    raise ProfileError(name_or_path, [(None, f"unknown policy profile; available profiles: {known}")])


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML would silently keep the last of two equal keys; in a policy that hides a mistake."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[Hashable] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, Hashable):
                if key in seen:
                    raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _load_file(path: Path) -> PolicyProfile:
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError(source, [(None, "file not found")]) from None
    except OSError as exc:
        raise ProfileError(source, [(None, f"cannot read the file ({exc.strerror})")]) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: no object construction
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise ProfileError(source, [(where, f"not valid YAML: {exc.problem}")]) from None
    except yaml.YAMLError as exc:
        raise ProfileError(source, [(None, f"not valid YAML: {exc}")]) from None
    if not isinstance(data, dict):
        raise ProfileError(source, [("(top level)", "expected a mapping of profile settings")])
    try:
        return PolicyProfile.model_validate(data)
    except ValidationError as exc:
        raise ProfileError(source, _problems_from(exc) + _raw_rule_problems(data)) from None


def _problems_from(error: ValidationError) -> list[tuple[str | None, str]]:
    problems: list[tuple[str | None, str]] = []
    for detail in error.errors():
        if detail["type"] == CONSISTENCY:
            problems.extend(detail.get("ctx", {})["problems"])
        else:
            problems.append((_field_path(detail["loc"]), _describe(detail)))
    return problems


def _raw_rule_problems(data: dict[Any, Any]) -> list[tuple[str | None, str]]:
    """Per-tool checks on the actions that parsed, so one run reports every problem in the file."""
    actions = data.get("actions")
    if not isinstance(actions, dict):
        return []
    problems: list[tuple[str | None, str]] = []
    for name, raw in actions.items():
        if name not in RULE_NAMES:
            continue
        try:
            rule = ActionRule.model_validate(raw)
        except ValidationError:
            continue  # its own problems are already listed
        problems.extend(rule_problems(name, rule))
    return problems


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(top level)"


def _describe(detail: ErrorDetails) -> str:
    kind = detail["type"]
    ctx: dict[str, Any] = dict(detail.get("ctx") or {})
    given = detail.get("input")
    if kind == "missing":
        return "required but missing"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind in {"enum", "literal_error"}:
        return f"unknown value {given!r}; expected {ctx.get('expected', 'one of the listed values')}"
    if kind == "greater_than_equal" and str(ctx.get("ge")) == "0":
        return f"must not be negative (got {given})"
    if kind == "value_error":
        return str(detail["msg"]).removeprefix("Value error, ")
    message = str(detail["msg"])
    got = f" (got {given!r})" if isinstance(given, str | int | float | Decimal | bool) else ""
    return message[:1].lower() + message[1:] + got
