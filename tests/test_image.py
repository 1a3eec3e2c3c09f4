"""The production image holds what runs and nothing else; requirements.txt is exactly its needs.

No docker here: these read the Dockerfile, .dockerignore, docker-compose.yml and the
requirement files, and work out which files each COPY would put in the image.
"""
from __future__ import annotations

import ast
import json
import os
import re
import shlex
import sys
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points, packages_distributions
from pathlib import Path

import yaml
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent

# What the web, worker, beat and `flask db upgrade` processes import (ringly/sandbox is not).
RUNTIME_SOURCES = ["ringly", "worker", "migrations", "wsgi.py", "celeryconfig.py",
                   "gunicorn.conf.py"]
NOT_RUNTIME = ["ringly/sandbox"]
# Never in the production image.
FORBIDDEN_IN_IMAGE = ["tests", "bench", "ringly/sandbox", "requirements-dev.txt", "scripts",
                      "docs", ".env", "instance", ".git", ".venv"]
# Distributions that are only for tests, benchmarks and checks.
TEST_TOOLS = {"pytest", "pytest-timeout", "schemathesis", "hypothesis", "playwright", "ruff",
              "factory-boy", "jsonschema", "referencing", "openapi-spec-validator",
              "dateparser", "import-linter"}
# Run-time requirements that nothing imports by name, and why they are there.
USED_WITHOUT_IMPORT = {"kombu": "Celery's transports (Redis, and SQLAlchemy for the embedded "
                                "default), pinned to the celery release"}


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# -- Dockerfile ---------------------------------------------------------------------------------

@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)


def parse_dockerfile(text: str) -> list[Stage]:
    stages: list[Stage] = []
    logical = re.sub(r"\\\n", " ", text)
    for line in logical.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "FROM":
            words = [w for w in rest.split() if not w.startswith("--")]
            name = words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else None
            stages.append(Stage(base=words[0].lower(), name=name))
        else:
            assert stages, f"{keyword} before the first FROM"
            stages[-1].instructions.append((keyword, rest))
    return stages


@cache
def stages() -> list[Stage]:
    return parse_dockerfile((ROOT / "Dockerfile").read_text())


def stage_named(name: str) -> Stage:
    matching = [s for s in stages() if s.name == name]
    assert matching, f"the Dockerfile has no stage named {name!r}"
    return matching[0]


def compose_build_target() -> str | None:
    """The target the production services (web, worker, beat, migrate) build; they agree."""
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    found = {(services[name].get("build") or {}).get("target")
             for name in ("migrate", "web", "worker", "beat")}
    assert len(found) == 1, f"production services build different targets: {found}"
    target = found.pop()
    return target.lower() if target else None


def production_stage() -> Stage:
    """The stage `docker compose build` builds: its named target, else the last stage."""
    target = compose_build_target()
    return stage_named(target) if target else stages()[-1]


def chain(stage: Stage) -> list[Stage]:
    """The stage and the stages it is built FROM, base first."""
    names = {s.name for s in stages()}
    parents = [stage_named(stage.base)] if stage.base in names else []
    return [*(chain(parents[0]) if parents else []), stage]


def production_instructions() -> list[tuple[str, str]]:
    return [instruction for stage in chain(production_stage())
            for instruction in stage.instructions]


def copy_args(rest: str) -> tuple[list[str], str, list[str]]:
    """(sources, destination, flags) of a COPY or ADD, shell or JSON form."""
    if rest.lstrip().startswith("["):
        words = json.loads(rest)
        flags: list[str] = []
    else:
        words = shlex.split(rest)
        flags = [w for w in words if w.startswith("--")]
        words = [w for w in words if not w.startswith("--")]
    return words[:-1], words[-1], flags


# -- .dockerignore and the files a COPY takes ----------------------------------------------------

def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


@cache
def dockerignore() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keep = line.startswith("!")
        pattern = line.lstrip("!").strip().strip("/")
        rules.append((keep, _pattern_regex(pattern)))
    return rules


def ignored(path: str) -> bool:
    """Docker's rule: a path is out when it or a folder above it matches; the last match wins."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    out = False
    for keep, regex in dockerignore():
        if any(regex.match(prefix) for prefix in prefixes):
            out = not keep
    return out


@cache
def context_files() -> tuple[str, ...]:
    """Every file of the build context, as paths relative to the repository."""
    files = []
    for folder, subfolders, names in os.walk(ROOT):
        base = Path(folder).relative_to(ROOT).as_posix()
        prefix = "" if base == "." else base + "/"
        subfolders[:] = [d for d in subfolders if not ignored(prefix + d)]
        files += [prefix + n for n in names if not ignored(prefix + n)]
    return tuple(sorted(files))


def copied_by(source: str) -> set[str]:
    """The context files a COPY source takes: a file it matches, or all under a folder it does."""
    source = source.strip("/")
    if source in {"", "."}:
        return set(context_files())
    regex = _pattern_regex(source)
    return {f for f in context_files()
            if any(regex.match("/".join(f.split("/")[:n])) for n in range(1, f.count("/") + 2))}


def production_files() -> set[str]:
    files: set[str] = set()
    for keyword, rest in production_instructions():
        if keyword in {"COPY", "ADD"}:
            sources, _, flags = copy_args(rest)
            if any(flag.startswith("--from") for flag in flags):
                raise AssertionError(f"{keyword} {rest}: check what the other stage copies")
            for source in sources:
                files |= copied_by(source)
    return files


def under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder + "/")


# -- Python imports -----------------------------------------------------------------------------

def runtime_python_files() -> list[Path]:
    files: list[Path] = []
    for source in RUNTIME_SOURCES:
        path = ROOT / source
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return [f for f in files
            if not any(under(f.relative_to(ROOT).as_posix(), n) for n in NOT_RUNTIME)]


def first_party() -> set[str]:
    """Names the repository itself provides: its top-level modules and folders."""
    return {p.stem for p in ROOT.glob("*.py")} | {p.name for p in ROOT.iterdir() if p.is_dir()}


def third_party_imports(files: list[Path]) -> dict[str, set[str]]:
    """Top-level module name -> the files that import it, for modules outside the repository
    and the standard library."""
    local = first_party()
    found: dict[str, set[str]] = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in local:
                    found.setdefault(top, set()).add(path.relative_to(ROOT).as_posix())
    return found


def requirements(name: str) -> dict[str, str]:
    """Normalized distribution name -> the line, for one requirement file (no includes)."""
    out = {}
    for line in (ROOT / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        assert not line.startswith("-"), f"{name}: {line!r}: run-time requirements include nothing"
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==\S+$", line)
        assert match, f"{name}: {line!r} is not pinned with =="
        out[normalize(match.group(1))] = line
    return out


@cache
def distributions_of(module: str) -> frozenset[str]:
    return frozenset(normalize(d) for d in packages_distributions().get(module, []))


def console_script_distribution(command: str) -> str | None:
    for entry in entry_points(group="console_scripts"):
        if entry.name == command and entry.dist is not None:
            return normalize(entry.dist.name)
    return None


def production_commands() -> list[list[str]]:
    """The CMD of the production stage and every `command:` of docker-compose.yml."""
    commands = []
    for keyword, rest in production_instructions():
        if keyword in {"CMD", "ENTRYPOINT"}:
            commands.append(json.loads(rest) if rest.startswith("[") else shlex.split(rest))
    text = (ROOT / "docker-compose.yml").read_text()
    for listed in re.findall(r"^\s+command:\s*(\[.*\])\s*$", text, re.MULTILINE):
        commands.append(json.loads(listed))
    return [c for c in commands if c and c[0] not in {"redis-server", "postgres"}]


# -- the tests ----------------------------------------------------------------------------------

def test_compose_builds_the_last_stage_which_runs_gunicorn_as_a_non_root_user() -> None:
    production = production_stage()
    assert production is stages()[-1], (
        "`docker build .` without --target must build what docker compose builds")
    assert production.name == "production"
    users = [rest for stage in chain(production) for keyword, rest in stage.instructions
             if keyword == "USER"]
    assert users and users[-1] not in {"root", "0"}, f"the image runs as {users[-1:] or 'root'}"
    commands = [rest for keyword, rest in production_instructions() if keyword == "CMD"]
    assert commands and "gunicorn" in commands[-1]


def test_production_copy_sources_name_nothing_but_run_time_code() -> None:
    for keyword, rest in production_instructions():
        if keyword not in {"COPY", "ADD"}:
            continue
        sources, _, _ = copy_args(rest)
        for source in sources:
            assert source.strip("/") not in {"", "."}, f"{keyword} {rest}: copies the whole context"
            for forbidden in FORBIDDEN_IN_IMAGE:
                assert not under(source.strip("/"), forbidden), f"{keyword} {rest}"


def test_production_image_holds_no_tests_benchmarks_sandbox_or_secrets() -> None:
    files = production_files()
    leaked = sorted(f for f in files
                    if any(under(f, forbidden) for forbidden in FORBIDDEN_IN_IMAGE)
                    or Path(f).name.startswith(".env"))
    assert not leaked, f"the production image would hold {leaked[:10]}"


def test_production_image_holds_every_run_time_module() -> None:
    needed = {p.relative_to(ROOT).as_posix() for p in runtime_python_files()}
    needed |= {"migrations/alembic.ini", "migrations/script.py.mako", "requirements.txt"}
    missing = sorted(needed - production_files())
    assert not missing, f"the production image would lack {missing}"


def test_production_image_installs_only_requirements_txt() -> None:
    installs = [command for keyword, rest in production_instructions() if keyword == "RUN"
                for command in re.split(r"&&|;|\|\|", rest) if "pip install" in command]
    assert installs, "the production image installs no requirements"
    for command in installs:
        words = shlex.split(command)
        after = words[words.index("install") + 1:]
        files = [after[i + 1] for i, w in enumerate(after[:-1]) if w in {"-r", "--requirement"}]
        others = [w for i, w in enumerate(after) if not w.startswith("-")
                  and (i == 0 or after[i - 1] not in {"-r", "--requirement"})]
        assert files == ["requirements.txt"] and not others, f"RUN {command.strip()}"


def test_dockerignore_keeps_secrets_local_state_tests_and_benchmarks_out() -> None:
    for path in [".env", ".env.production", "deploy/.env", "instance/ringly.db",
                 "tests/conftest.py", "bench/voice.py", ".git/config", ".venv/bin/python",
                 "ringly/__pycache__/config.cpython-311.pyc"]:
        assert ignored(path), f".dockerignore lets {path} into the build context"
    for path in ["ringly/__init__.py", "ringly/docs_assets.py", "worker/__init__.py",
                 "migrations/env.py", "requirements.txt", "wsgi.py"]:
        assert not ignored(path), f".dockerignore keeps {path} out of the build context"


def test_every_run_time_import_is_provided_by_requirements_txt() -> None:
    required = set(requirements("requirements.txt"))
    imports = third_party_imports(runtime_python_files())
    assert {"flask", "celery", "twilio", "sqlalchemy"} <= set(imports), "the import scan is blind"
    unprovided = {module: sorted(files)[:3] for module, files in imports.items()
                  if not distributions_of(module) & required}
    assert not unprovided, f"imported at run time but not in requirements.txt: {unprovided}"


def test_the_commands_the_containers_run_come_from_requirements_txt() -> None:
    required = set(requirements("requirements.txt"))
    commands = production_commands()
    assert {c[0] for c in commands} >= {"gunicorn", "celery", "flask"}
    for command in commands:
        if command[0] in {"python", "python3"}:
            continue
        assert console_script_distribution(command[0]) in required, command


def test_the_database_driver_comes_from_requirements_txt() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    url = re.search(r"DATABASE_URL:\s*(\S+)", text).group(1)
    driver = make_url(url).get_dialect().import_dbapi()
    provided = distributions_of(driver.__name__.split(".")[0])
    assert provided & set(requirements("requirements.txt")), (url, driver.__name__)


def test_requirements_txt_holds_nothing_the_services_do_not_use() -> None:
    required = requirements("requirements.txt")
    tools = sorted(set(required) & {normalize(t) for t in TEST_TOOLS}
                   | {r for r in required if r.startswith("pytest")})
    assert not tools, f"test tools in requirements.txt: {tools}"
    imported = set().union(*(distributions_of(m)
                             for m in third_party_imports(runtime_python_files())))
    run = {console_script_distribution(c[0]) for c in production_commands()}
    url = re.search(r"DATABASE_URL:\s*(\S+)", (ROOT / "docker-compose.yml").read_text()).group(1)
    driver = distributions_of(make_url(url).get_dialect().import_dbapi().__name__.split(".")[0])
    unused = sorted(set(required) - imported - run - driver - set(USED_WITHOUT_IMPORT))
    assert not unused, f"requirements.txt lists what no run-time process uses: {unused}"


def test_requirements_dev_txt_adds_the_tools_to_requirements_txt() -> None:
    lines = [line.split("#", 1)[0].strip()
             for line in (ROOT / "requirements-dev.txt").read_text().splitlines()]
    lines = [line for line in lines if line]
    assert lines[0] == "-r requirements.txt"
    dev = {}
    for line in lines[1:]:
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==\S+$", line)
        assert match, f"requirements-dev.txt: {line!r} is not pinned with =="
        dev[normalize(match.group(1))] = line
    assert not set(dev) & set(requirements("requirements.txt")), "listed in both files"
    # Used without an import the scan below sees: plugins, commands, pytest.importorskip.
    assert {"pytest", "pytest-timeout", "import-linter", "ruff", "playwright"} <= set(dev)
    imports = third_party_imports(sorted((ROOT / "tests").rglob("*.py"))
                                  + sorted((ROOT / "bench").rglob("*.py")))
    everything = set(dev) | set(requirements("requirements.txt"))
    unprovided = sorted(m for m in imports if not distributions_of(m) & everything)
    assert not unprovided, f"tests or benchmarks import what no requirement file has: {unprovided}"
