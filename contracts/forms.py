"""Forms of the review page: a clause's params as inputs built from the taxonomy."""

import typing
from dataclasses import dataclass
from typing import Any

from contracts.param_words import label, starting_value
from contracts.taxonomy import PARAMS


@dataclass(frozen=True)
class ParamField:
    name: str
    label: str
    value: str
    choices: tuple[str, ...]  # empty: free text


def param_fields(
    clause_type: str, params: dict[str, Any], defaults: dict[str, Any] | None = None
) -> list[ParamField]:
    """The inputs of a clause's params, each starting from the clause's value, else the
    clause type's `defaults`, else a sensible value (param_words.starting_value)."""
    fields = []
    for name, info in PARAMS[clause_type].model_fields.items():
        choices: tuple[str, ...] = ()
        annotation = info.annotation
        for arg in (annotation, *typing.get_args(annotation)):
            if typing.get_origin(arg) is typing.Literal:
                choices = tuple(typing.get_args(arg))
            elif arg is bool:
                choices = ("true", "false")
        value = params.get(name)
        if value is None:
            value = starting_value(clause_type, name, defaults or {})
        text = (
            "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        )
        fields.append(ParamField(name, label(name), text, choices))
    return fields


def params_from_post(clause_type: str, data) -> dict[str, Any]:
    """The posted inputs of a clause type's params; blanks are null (the taxonomy decides)."""
    return {
        name: (data.get(f"param_{name}", "").strip() or None)
        for name in PARAMS[clause_type].model_fields
    }
