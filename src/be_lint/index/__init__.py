"""The project index: facts that cross files, built in a first, cheap pass before linting.

Today it holds the ORM models of the project -- Django models and SQLAlchemy mapped classes,
their relations and loading strategies, and custom Django managers and query sets -- so that
rules checking one file can tell that ``order.customer`` in ``views.py`` is a foreign key
declared in ``models.py``. Rules read it through ``ctx.project``; they never read other files.
"""

from __future__ import annotations

from be_lint.index.build import build_index, index_paths, index_text, merge
from be_lint.index.facts import may_define_models, module_name
from be_lint.index.model import Eager, Model, Orm, ProjectIndex, QuerySetClass, Relation

__all__ = [
    "Eager",
    "Model",
    "Orm",
    "ProjectIndex",
    "QuerySetClass",
    "Relation",
    "build_index",
    "index_paths",
    "index_text",
    "may_define_models",
    "merge",
    "module_name",
]
