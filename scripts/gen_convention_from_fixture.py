#!/usr/bin/env python3
"""Generate tests/fixtures/convention_from/python.json: what Python makes of each fixture.

`dbtool lint-constraints --convention-from FILE.py` reads the naming convention from the
application's source without running it. This script is the oracle: it imports every module
under tests/fixtures/convention_from/ with a real Python, SQLAlchemy and SQLModel, finds the
MetaData the module gives its models (a MetaData at the top level, or the ``metadata`` of a
class such as a declarative base or SQLModel), and writes that MetaData's ``naming_convention``
as ``[key, template]`` pairs in dict order, a class key as the class's name, and ``effective``:
the template SQLAlchemy's own lookup (``sqlalchemy.sql.naming._get_convention``, which walks the
constraint class's MRO) finds for each kind, or null. A module without a MetaData contributes
its top-level dict whose name contains ``convention``. Negative fixtures
are imported too: Python evaluates them fine, dbtool must refuse them (the cargo test
``convention_from_fixture`` checks both).

Usage (from the crate root), with the pinned versions of scripts/convention-from-requirements.txt:

    python3 -m venv /tmp/dbtool-convention-venv
    /tmp/dbtool-convention-venv/bin/pip install -r scripts/convention-from-requirements.txt
    /tmp/dbtool-convention-venv/bin/python scripts/gen_convention_from_fixture.py
"""

from __future__ import annotations

import importlib.util
import json
import platform
import sys
from pathlib import Path

import sqlalchemy
import sqlmodel
from sqlalchemy import (
    CheckConstraint,
    ForeignKeyConstraint,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.sql.naming import _get_convention

# dbtool's kinds and the classes SQLAlchemy looks conventions up for.
KINDS = {
    "pk": PrimaryKeyConstraint,
    "fk": ForeignKeyConstraint,
    "uq": UniqueConstraint,
    "ck": CheckConstraint,
    "ix": Index,
    "ex": ExcludeConstraint,
}

ROOT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "convention_from"
OUT = ROOT / "python.json"


def load(path: Path):
    name = "fixture_" + "_".join(path.relative_to(ROOT).with_suffix("").parts)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def metadata_of(module) -> list[MetaData]:
    found: list[MetaData] = []
    for value in vars(module).values():
        if isinstance(value, MetaData):
            candidate = value
        elif isinstance(value, type):
            candidate = getattr(value, "metadata", None)
        else:
            continue
        if isinstance(candidate, MetaData) and not any(candidate is f for f in found):
            found.append(candidate)
    return found


def convention_of(path: Path) -> dict:
    module = load(path)
    found = metadata_of(module)
    if len(found) > 1:
        sys.exit(f"{path}: {len(found)} different MetaData objects; a fixture has one")
    if found:
        convention = found[0].naming_convention
    else:
        dicts = [
            value
            for name, value in vars(module).items()
            if "convention" in name.lower() and isinstance(value, dict)
        ]
        if len(dicts) != 1:
            sys.exit(f"{path}: no MetaData and {len(dicts)} convention dicts")
        convention = dicts[0]
    return {
        "naming_convention": [
            [key.__name__ if isinstance(key, type) else key, template]
            for key, template in convention.items()
        ],
        "effective": {kind: _get_convention(convention, cls) for kind, cls in KINDS.items()},
    }


def main() -> None:
    sys.path.insert(0, str(ROOT))
    modules = {
        path.relative_to(ROOT).as_posix(): convention_of(path)
        for path in sorted(ROOT.rglob("*.py"))
    }
    document = {
        "generated_by": "scripts/gen_convention_from_fixture.py",
        "python": platform.python_version(),
        "sqlalchemy": sqlalchemy.__version__,
        "sqlmodel": sqlmodel.__version__,
        "modules": modules,
    }
    OUT.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {OUT.relative_to(ROOT.parent.parent.parent)}: {len(modules)} modules")


if __name__ == "__main__":
    main()
