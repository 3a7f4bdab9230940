"""The tree's import rules (docs/architecture.md, "Layers"), checked on the source: the kernel's layers
import only downward, the kernel names no service, services never import each other, and a domain
reaches no framework."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from kernel.deployment import load_deployment

ROOT = Path(__file__).resolve().parents[2]

KERNEL_LAYERS: dict[str, set[str]] = {
    "kernel.domain": set(),
    "kernel.store": {"kernel.domain", "kernel.faults", "kernel.config"},
    "kernel.messaging": {
        "kernel.domain",
        "kernel.store",
        "kernel.faults",
        "kernel.config",
        "kernel.collector",
    },
    "kernel.web": {"kernel.domain", "kernel.store", "kernel.masking", "kernel.config"},
    "kernel.access": {"kernel.domain", "kernel.store", "kernel.web", "kernel.masking", "kernel.config"},
}
"""Each layer of the kernel, and the other kernel modules it may import (besides itself)."""

BOTTOM_MODULES = ("kernel/config.py", "kernel/faults.py", "kernel/collector.py")
"""Modules below every layer (the settings base, fault points, the collector's pause): they import only
``kernel.config``."""

FRAMEWORKS = ("sqlalchemy", "fastapi", "starlette", "faststream", "redis", "httpx", "rehab_contracts")
"""What a pure domain module (and whatever it imports within its service) never imports."""

PURE_KERNEL = ("kernel.domain", "kernel.reference")
"""The kernel's parts a domain may use: refusals, business time and ids; the jurisdiction's reference data."""


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def imports_of(path: Path) -> tuple[str, ...]:
    """Every module a file imports, at module level or inside functions (absolute names)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, up level - 1 packages
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base]).strip(".")
            found.append(base)
            found.extend(f"{base}.{alias.name}" for alias in node.names)
    return tuple(found)


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def kernel_imports(path: Path) -> Iterator[str]:
    for name in imports_of(path):
        if within(name, "kernel"):
            yield name


@pytest.mark.parametrize("layer", sorted(KERNEL_LAYERS))
def test_each_kernel_layer_imports_only_the_layers_below_it(layer: str) -> None:
    allowed = {layer, *KERNEL_LAYERS[layer]}
    wrong = {
        f"{module_name(path)} imports {name}"
        for path in python_files(layer.replace(".", "/"))
        for name in kernel_imports(path)
        if not any(within(name, ok) for ok in allowed) and name != "kernel"
    }
    assert not wrong, sorted(wrong)


def test_the_bottom_modules_import_only_the_settings_base() -> None:
    wrong = {
        f"{module_name(ROOT / path)} imports {name}"
        for path in BOTTOM_MODULES
        for name in kernel_imports(ROOT / path)
        if not within(name, "kernel.config")
    }
    assert not wrong, sorted(wrong)


def test_the_kernel_imports_no_service_nor_the_command_line() -> None:
    wrong = {
        f"{module_name(path)} imports {name}"
        for path in python_files("kernel")
        for name in imports_of(path)
        if within(name, "services") or within(name, "rehab") or within(name, "console")
    }
    assert not wrong, sorted(wrong)


def string_constants(path: Path) -> Iterator[str]:
    """String literals of a module that are not docstrings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.value


def test_the_kernel_names_no_service() -> None:
    services = set(load_deployment().names)
    named = {
        f"{module_name(path)}: {text!r}"
        for path in python_files("kernel")
        for text in string_constants(path)
        if text in services
    }
    assert not named, sorted(named)


def test_a_service_never_imports_another_service() -> None:
    wrong = set()
    for service in load_deployment().names:
        for path in python_files(f"services/{service}"):
            for name in imports_of(path):
                other = name.split(".")[1] if within(name, "services") and name.count(".") >= 1 else None
                if other is not None and other != service:
                    wrong.add(f"{module_name(path)} imports {name}")
    assert not wrong, sorted(wrong)


def domain_modules() -> list[Path]:
    modules = [ROOT / "services" / service / "domain.py" for service in load_deployment().names]
    return [path for path in modules if path.exists()] + python_files("services/settlement/book")


def reachable_within_service(path: Path) -> set[Path]:
    """The module and every module of its own service it imports, transitively."""
    service = module_name(path).split(".")[1]
    seen: set[Path] = set()
    todo = [path]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for name in imports_of(current):
            if within(name, f"services.{service}"):
                candidate = ROOT / Path(*name.split("."))
                for found in (candidate.with_suffix(".py"), candidate / "__init__.py"):
                    if found.exists():
                        todo.append(found)
    return seen


@pytest.mark.parametrize("domain", domain_modules(), ids=module_name)
def test_a_domain_reaches_no_framework_nor_the_kernels_adapters(domain: Path) -> None:
    wrong = {
        f"{module_name(path)} imports {name}"
        for path in reachable_within_service(domain)
        for name in imports_of(path)
        if any(within(name, framework) for framework in FRAMEWORKS)
        or (within(name, "kernel") and not any(within(name, pure) for pure in PURE_KERNEL))
    }
    assert not wrong, sorted(wrong)


def test_the_contracts_package_stands_alone() -> None:
    wrong = {
        f"{module_name(path)} imports {name}"
        for path in python_files("contracts/rehab_contracts")
        for name in imports_of(path)
        if any(within(name, package) for package in ("kernel", "services", "rehab", "console"))
    }
    assert not wrong, sorted(wrong)
