"""The core stays framework-free, and the package root stays light.

No module under ``src/walker_channels`` imports a web framework (only the adapters under
``adapters/`` may), and ``import walker_channels`` loads none of the optional extras, so a
user of the pure functions pays for nothing they did not install.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import walker_channels

CORE = Path(__file__).resolve().parents[2] / "src" / "walker_channels"
WEB_FRAMEWORKS = frozenset({"fastapi", "starlette", "flask", "werkzeug", "uvicorn"})
EXTRAS = (
    "sqlalchemy",
    "jinja2",
    "aiosmtplib",
    "fastapi",
    "flask",
    "vaderSentiment",
    "opentelemetry",
)
DYNAMIC_IMPORTS = frozenset({"import_module", "__import__"})


def imported_roots(source: str) -> set[str]:
    """Top-level package names a module imports, statically or by a literal dynamic import."""
    roots: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and (target := _dynamic_import_target(node)):
            roots.add(target.split(".")[0])
    return roots


def _dynamic_import_target(call: ast.Call) -> str | None:
    """The module named by ``import_module("x")`` or ``__import__("x")``, if a literal."""
    function = call.func
    name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
    if name not in DYNAMIC_IMPORTS or not call.args:
        return None
    first = call.args[0]
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def loaded_after(statement: str, watched: frozenset[str] | tuple[str, ...]) -> list[str]:
    """The watched top-level packages a fresh interpreter holds after running ``statement``."""
    probe = (
        f"import json, sys\n{statement}\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {set(watched)!r})))"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter, a fixed probe
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    loaded: list[str] = json.loads(done.stdout.splitlines()[-1])
    return loaded


def test_the_checker_sees_every_kind_of_framework_import() -> None:
    source = (
        "import flask\nimport uvicorn.config as c\nfrom starlette.requests import Request\n"
        "from fastapi import APIRouter\nimportlib.import_module('werkzeug.datastructures')\n"
        "from . import flask_like\nfrom .fastapi import x\n"
    )
    assert imported_roots(source) == {"flask", "uvicorn", "starlette", "fastapi", "werkzeug"}


def test_no_core_module_imports_a_web_framework() -> None:
    modules = sorted(CORE.rglob("*.py"))
    assert len(modules) > 20, f"expected the core's modules under {CORE}"
    offenders = {
        str(path.relative_to(CORE)): sorted(imported_roots(path.read_text()) & WEB_FRAMEWORKS)
        for path in modules
    }
    assert {path: found for path, found in offenders.items() if found} == {}


def test_importing_the_package_root_loads_no_optional_extra() -> None:
    assert loaded_after("import walker_channels", EXTRAS) == []


def test_importing_every_core_package_loads_no_web_framework() -> None:
    packages = sorted(p.stem if p.is_file() else p.name for p in _top_level_modules())
    statement = "\n".join(f"import walker_channels.{name}" for name in packages)
    assert loaded_after(statement, WEB_FRAMEWORKS) == []


def _top_level_modules() -> list[Path]:
    root = Path(walker_channels.__file__).parent
    files = [p for p in root.glob("*.py") if p.stem != "__init__"]
    return files + [p for p in root.iterdir() if (p / "__init__.py").is_file()]


# Which package may import which (docs/architecture.md draws it). The pure layer is every
# top-level module and the models package: it imports nothing of the others.
PROVIDERS = frozenset({"twilio", "email", "agents", "sql", "meta", "telegram", "sentiment"})
MAY_IMPORT: dict[str, frozenset[str]] = {
    "pure": frozenset(),
    **{provider: frozenset() for provider in PROVIDERS},
    "services": frozenset(),
    "testing": frozenset({"services"}),
    "dispatch": frozenset({"services"}),
    "contrib": frozenset({"app", "dispatch", "services"}),
    "app": frozenset({"services", "dispatch", *PROVIDERS}),
    "web": frozenset({"app", "services", "twilio"}),
    "cli": frozenset({"app", "services", *PROVIDERS}),
}
"""Besides itself and the pure layer. Providers never import each other or the flows; the
flows (services) depend on ports, never on a provider; only the composition root (app) and
the commands (cli) wire providers; the HTTP layer serves what the root built, and parses
Twilio's wire format with the Twilio module's parsers."""


def layer_of(module: str) -> str:
    """The layer of ``walker_channels.<part>...``: a package's name, or ``pure``."""
    parts = module.split(".")
    if parts[0] != "walker_channels" or len(parts) < 2:
        return "pure"
    return parts[1] if parts[1] in MAY_IMPORT else "pure"


def core_imports(path: Path) -> set[str]:
    """The ``walker_channels...`` modules a core file imports (relative imports resolved)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {name for name in found if name.split(".")[0] in {"walker_channels"}}


def test_the_layer_checker_tells_the_layers_apart() -> None:
    assert layer_of("walker_channels.models") == "pure"
    assert layer_of("walker_channels.privacy") == "pure"
    assert layer_of("walker_channels.services.email.brief") == "services"
    assert layer_of("walker_channels.app") == "app"


def test_no_core_module_imports_a_package_its_layer_may_not() -> None:
    offenders: dict[str, list[str]] = {}
    for path in sorted(CORE.rglob("*.py")):
        module = "walker_channels." + ".".join(path.relative_to(CORE).with_suffix("").parts)
        own = layer_of(module)
        allowed = {own, "pure", *MAY_IMPORT[own]}
        refused = sorted(name for name in core_imports(path) if layer_of(name) not in allowed)
        if refused:
            offenders[str(path.relative_to(CORE))] = refused
    assert offenders == {}


def test_no_core_module_imports_an_adapter() -> None:
    adapters = {"walker_channels_fastapi", "walker_channels_flask"}
    offenders = {
        str(path.relative_to(CORE)): sorted(imported_roots(path.read_text()) & adapters)
        for path in CORE.rglob("*.py")
    }
    assert {path: found for path, found in offenders.items() if found} == {}


def test_only_the_settings_module_reads_the_environment() -> None:
    roots = [CORE, CORE.parents[1] / "adapters"]
    readers = sorted(
        str(path)
        for root in roots
        for path in root.rglob("*.py")
        if "os.environ" in path.read_text() or "getenv(" in path.read_text()
    )
    assert readers == []
