"""The import graph of the product: layers only import downwards and no module waits on itself.

    models/  <  actions/  <  sandbox/  <  admin_app/  <  bench/

sandbox/ (the demo's and the tests' Stripe and PayPal) may use models/ and the adapters'
tables in actions/; no production request path imports it: only admin_app's command line,
inside its functions, and bench/.

Every `import` counts, also one inside a function (a lazy import still makes the module
depend on the other). A cycle is reported with the modules in it. The only edge allowed
into a cycle is into the composition root, the `admin_app` package itself (`create_app`):
inside the product only a function imports it (an RQ worker process building its app).
"""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = {"models": 0, "actions": 1, "sandbox": 2, "admin_app": 3, "bench": 4}
COMPOSITION_ROOT = "admin_app"


def module_files():
    files = {"wsgi": ROOT / "wsgi.py"}
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            files[".".join(parts)] = path
    return files


def imports(name, path, known):
    """(imported module, line, at module level?) for each import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    top_level = {id(node) for node in tree.body}
    found = []

    def nearest(dotted):
        while dotted and dotted not in known and not dotted.startswith("tests."):
            dotted = dotted.rpartition(".")[0]
        return dotted

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [nearest(alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            targets = [base if base.split(".")[0] == "tests"
                       else nearest(f"{base}.{alias.name}") or nearest(base)
                       for alias in node.names]
        else:
            continue
        found += [(target, node.lineno, id(node) in top_level) for target in targets if target]
    return found


def graph():
    files = module_files()
    return {name: imports(name, path, files) for name, path in files.items()}


def cycles(edges):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in list(edges):
        if v not in index:
            visit(v)
    return found


def test_the_graph_sees_the_imports_it_checks():
    edges = graph()
    assert len(edges) > 140
    assert ("admin_app.lists", True) in {(m, top) for m, _, top in edges["admin_app.jobs"]}
    assert "models.base" in {m for m, _, _ in edges["models.customer"]}
    # a lazy import counts too
    assert ("admin_app", False) in {(m, top) for m, _, top in edges["admin_app.queue"]}


def test_no_layer_imports_a_layer_above_it_or_the_tests():
    upward = []
    for name, found in graph().items():
        layer = LAYERS.get(name.split(".")[0], len(LAYERS))
        for target, line, _ in found:
            top = target.split(".")[0]
            if top == "tests" or LAYERS.get(top, -1) > layer:
                upward.append(f"{name} (line {line}) imports {target}")
    assert upward == []


def test_the_sandbox_is_imported_only_by_the_command_line_inside_its_functions():
    found = [(name, target, line, top) for name, edges in graph().items()
             for target, line, top in edges
             if target.split(".")[0] == "sandbox" and name.split(".")[0] == "admin_app"]
    assert found, "admin_app's command line starts the demo's sandbox"
    assert [f for f in found if f[0] != "admin_app.cli" or f[3]] == []


def test_no_import_cycles():
    edges, lazy_roots = {}, []
    for name, found in graph().items():
        for target, line, top_level in found:
            if target == name:
                continue
            if target == COMPOSITION_ROOT:
                if top_level and name.split(".")[0] in ("admin_app", "actions", "models"):
                    lazy_roots.append(f"{name} (line {line}) imports create_app at module level")
                continue
            edges.setdefault(name, set()).add(target)
    assert lazy_roots == []
    assert cycles(edges) == []


def test_no_module_is_imported_only_for_what_importing_it_registers():
    """Registries are explicit (a name in a tuple, a call by name): a module imported under a
    `# noqa` (its name unused) so that importing it registers something (a listener, a job,
    a view) is not. Re-exporting a function or a class under `noqa` is fine."""
    files = module_files()
    found = []
    for name, path in files.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in ast.walk(ast.parse("\n".join(lines), str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package[:len(package) - node.level + 1]
                                    + ([base] if base else []))
                modules = [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            noqa = any("# noqa" in lines[n - 1]
                       for n in range(node.lineno, (node.end_lineno or node.lineno) + 1))
            found += [f"{name} (line {node.lineno}) imports {module} for its side effect"
                      for module in modules if noqa and module in files]
    assert found == []


def test_the_mrr_ledger_follows_every_flush_once_models_is_imported():
    """The flush hook models/__init__.py registers by name (was a decorator run by importing
    models.mrr for its side effect)."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from models.mrr import keep_ledger
    assert event.contains(Session, "after_flush", keep_ledger)
