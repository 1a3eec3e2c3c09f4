"""The import contracts in pyproject.toml cover every package and module of ringly/."""
from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import ringly

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = {c["id"]: c for c in tomllib.loads(
    (ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]}


def _top_level() -> tuple[set[str], set[str]]:
    packages, modules = set(), set()
    for info in pkgutil.iter_modules(ringly.__path__):
        (packages if info.ispkg else modules).add(f"ringly.{info.name}")
    return packages, modules


def test_every_domain_package_has_a_place_in_the_layers():
    packages, _ = _top_level()
    layered = {name.strip() for layer in CONTRACTS["domain-layers"]["layers"]
               for name in layer.split("|")}
    assert packages - {"ringly.sandbox"} == layered


def test_every_module_but_the_sandbox_is_kept_from_the_tools():
    packages, modules = _top_level()
    sources = set(CONTRACTS["service-stays-out-of-tools"]["source_modules"])
    assert (packages | modules) - {"ringly.sandbox"} == sources
    assert set(CONTRACTS["service-stays-out-of-tools"]["forbidden_modules"]) == {
        "ringly.sandbox", "worker", "tests", "bench"}


def test_shared_modules_import_no_domain_package():
    packages, modules = _top_level()
    contract = CONTRACTS["neutral-modules"]
    assert set(contract["forbidden_modules"]) == packages - {"ringly.sandbox"}
    # The composition root, the schema aggregate, health and the docs page may import domains.
    assert set(contract["source_modules"]) == modules - {
        "ringly.models", "ringly.health", "ringly.docs_assets"}


def test_the_composition_root_is_kept_from_the_tools_too():
    # `ringly/__init__.py` is no package listed above (listing `ringly` would take in the
    # sandbox itself): a contract of its own holds it, as the module alone.
    contract = CONTRACTS["root-stays-out-of-tools"]
    assert contract["source_modules"] == ["ringly"] and contract["as_packages"] is False
    assert set(contract["forbidden_modules"]) == {"ringly.sandbox", "worker", "tests", "bench"}
