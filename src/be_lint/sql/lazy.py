"""sqlglot, imported when a file first has SQL to parse rather than when the rules load.

Importing sqlglot takes about a tenth of a one-file run, and most files hold no SQL. Modules
that use it write::

    if TYPE_CHECKING:
        import sqlglot.expressions as exp
    else:
        from be_lint.sql.lazy import exp

and only touch ``exp.Select`` and the like inside functions (module-level tables of sqlglot
classes are built on first use).
"""

from __future__ import annotations

import importlib
from typing import Any


class LazyModule:
    """Stands for the module ``name``; the first attribute read imports it."""

    def __init__(self, name: str) -> None:
        self.__name = name

    def __getattr__(self, attr: str) -> Any:
        value = getattr(importlib.import_module(self.__name), attr)
        setattr(self, attr, value)  # later reads find it without coming here
        return value

    def __repr__(self) -> str:
        return f"<lazy module {self.__name!r}>"


sqlglot = LazyModule("sqlglot")
exp = LazyModule("sqlglot.expressions")
errors = LazyModule("sqlglot.errors")
dialect = LazyModule("sqlglot.dialects.dialect")
