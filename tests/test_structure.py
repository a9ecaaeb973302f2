"""The shape of ``app/``: no import cycles, rooms that stay apart, small modules, a verifier
that resource services can import without the server, and machine requests that never
run console code."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import flask_login
import pytest

from tests.helpers import basic_auth

APP = Path(__file__).resolve().parents[1] / "app"
ROOMS = ("app.oauth", "app.api", "app.console", "app.cli", "app.mail")
#: ``gatehouse worker`` is how an operator starts the mail room's delivery loop
ROOM_TO_ROOM = {("app.cli.mail", "app.mail.worker")}
MAX_LINES = 300


def _module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in APP.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str) -> set[str]:
    """The ``app`` modules ``module`` imports anywhere (functions too), except for type checking."""
    found: set[str] = set()
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in MODULES else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(MODULES[module].read_text()))
    return {name for name in found if name in MODULES and name != module}


GRAPH = {module: _imports(module) for module in MODULES}


def _cycle() -> list[str] | None:
    """One import cycle among app modules, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def walk(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in sorted(GRAPH[module]):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state and (found := walk(target)):
                return found
        state[module] = 2
        path.pop()
        return None

    for module in sorted(GRAPH):
        if module not in state and (found := walk(module)):
            return found
    return None


def test_no_import_cycle_in_app():
    assert _cycle() is None, " -> ".join(_cycle() or [])


def test_the_cycle_check_finds_a_cycle():
    """The check itself can fail: a two-module loop added to the graph is reported."""
    GRAPH["app.errors"].add("app.config")
    GRAPH["app.config"].add("app.errors")
    try:
        assert _cycle() is not None
    finally:
        GRAPH["app.errors"].discard("app.config")
        GRAPH["app.config"].discard("app.errors")


@pytest.mark.parametrize("room", ROOMS)
def test_rooms_do_not_import_each_other(room):
    inside = [m for m in GRAPH if m == room or m.startswith(room + ".")]
    others = [r for r in ROOMS if r != room]
    reaching = {
        (module, target)
        for module in inside
        for target in GRAPH[module]
        if any(target == other or target.startswith(other + ".") for other in others)
    }
    assert reaching - ROOM_TO_ROOM == set()


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_stay_small(module):
    lines = MODULES[module].read_text().count("\n")
    assert lines <= MAX_LINES, f"{module} has {lines} lines"


def test_only_security_imports_pyjwt():
    users = [m for m in MODULES if "jwt" in _third_party(m) and not m.startswith("app.security")]
    assert users == []


def test_only_the_metrics_module_imports_prometheus():
    users = [m for m in MODULES if "prometheus_client" in _third_party(m)]
    assert users == ["app.metrics"]


def _third_party(module: str) -> set[str]:
    tree = ast.parse(MODULES[module].read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_offline_verifier_loads_without_the_server_stack():
    """A resource service imports ``app.resource`` with PyJWT and cryptography only."""
    code = (
        "import sys, app.resource\n"
        "heavy = sorted(m for m in ('flask', 'sqlalchemy', 'authlib', 'werkzeug') "
        "if m in sys.modules)\n"
        "print(','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=APP.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == ""


def _console_code_run_by(app, request) -> set[str]:
    """The console functions, and Flask-Login's (the console's sign-in), that run while
    the app serves ``request(client)``."""
    console = (str(APP / "console"), str(Path(flask_login.__file__).parent))
    seen: set[str] = set()

    def profile(frame, event, _arg):
        if event == "call" and frame.f_code.co_filename.startswith(console):
            seen.add(f"{frame.f_code.co_filename}:{frame.f_code.co_name}")

    http = app.test_client()
    sys.setprofile(profile)
    try:
        request(http)
    finally:
        sys.setprofile(None)
    return seen


def test_machine_requests_run_no_console_code(app, factory):
    creds, spy = factory.client(), factory.introspector()
    form = {"grant_type": "client_credentials"}
    token = app.test_client().post("/token", data=form, headers=creds.basic).json["access_token"]

    def machine(http) -> None:
        assert http.post("/token", data=form, headers=creds.basic).status_code == 200
        assert http.post("/token", data=form, headers=basic_auth(creds.client_id, "x")).status_code
        assert http.post("/introspect", data={"token": token}, headers=spy.basic).json["active"]
        assert http.post("/revoke", data={"token": token}, headers=creds.basic).status_code == 200
        assert http.get("/revocations", headers=spy.basic).status_code == 200
        assert http.get("/.well-known/jwks.json").status_code == 200
        assert http.get("/healthz").status_code == 200
        assert http.get("/api/v1/nothing-here").status_code == 404

    assert _console_code_run_by(app, machine) == set()


def test_the_console_check_sees_console_code(app):
    """The profile above does catch console code: a console page runs some."""
    assert _console_code_run_by(app, lambda http: http.get("/login"))
