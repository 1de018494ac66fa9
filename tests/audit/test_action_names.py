"""Audit action names come from one enum (audit/actions.py), `<model>.<past_tense_verb>`; the
UI words old and new names alike."""

import ast
import re
from pathlib import Path

import pytest
from django.apps import apps

from audit.actions import LEGACY, Action, action_label, canonical_action

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["audit", "dealdesk", "contracts", "approvals", "billing"]
WRITERS = {"audit_record", "record_change"}


def _sources():
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


def _has_key(node: ast.Dict, key: str) -> bool:
    return any(isinstance(k, ast.Constant) and k.value == key for k in node.keys)


def _is_literal_name(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant | ast.JoinedStr | ast.BinOp)


def test_code_emits_only_action_names_from_the_enum():
    offenders = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            values = []
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name in WRITERS:
                    values += [k.value for k in node.keywords if k.arg == "action"]
            elif isinstance(node, ast.Dict) and _has_key(node, "actor"):  # audit_record_many
                values += [
                    v
                    for k, v in zip(node.keys, node.values, strict=True)
                    if isinstance(k, ast.Constant) and k.value == "action"
                ]
            offenders += [
                f"{path.relative_to(ROOT)}:{v.lineno}" for v in values if _is_literal_name(v)
            ]
    assert offenders == [], "audit actions must be Action members, not strings"


def _model_names() -> set[str]:
    # ARItem → ar_item: an acronym stays one word.
    split = r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])"
    return {re.sub(split, "_", model.__name__).lower() for model in apps.get_models()}


@pytest.mark.parametrize("action", list(Action))
def test_each_name_is_a_model_and_a_past_tense_verb(action):
    model, verb = action.value.split(".")
    assert model in _model_names(), f"{action}: {model} is no model"
    words = verb.split("_")
    irregular = ("set", "sent", "paid", "held")
    assert any(w.endswith("ed") or w in irregular for w in words), f"{action}: tense"


def test_old_and_new_names_read_the_same():
    for old, new in LEGACY.items():
        assert canonical_action(old) is new
        assert action_label(old) == action_label(new.value)
    assert action_label("deal.approve") == "Deal approved"
    assert action_label("approval.requested") == "Approval requested"
    assert action_label("no.such_thing") == "no.such_thing"
