"""Package names imported on first use (PEP 562 `__getattr__`).

The `capacities-mcp` command imports every area's package to build its parser, and the MCP server
answers tools/list before it needs the client: a package's public names must cost nothing until
somebody uses one. Each package lists where its names live and gets its `__getattr__` here.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """`package`'s `__getattr__`: a name comes from its module `homes[name]` (relative, such as
    "._client"), imported when first asked for, and is then kept on the package. A home named like
    the attribute is the attribute itself (a submodule such as `api.models`)."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(home, package)
        value = module if module.__name__ == f"{package}.{name}" else getattr(module, name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
