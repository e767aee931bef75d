"""One module per CMS generation (how it lists, how its articles read, how it is recognised),
and the base spider they serve (``base.py``, ``generation.py``)."""

from __future__ import annotations

import importlib
import pkgutil


def generation_types() -> dict[str, type]:
    """Every generation class of this package, by its ``name``: what a portal's configuration
    (``portals.toml``) may name."""
    from .generation import Generation

    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    found: dict[str, type] = {}
    todo = list(Generation.__subclasses__())
    while todo:
        cls = todo.pop(0)
        todo.extend(cls.__subclasses__())
        if cls.name and cls.__module__.startswith(__name__ + "."):
            found.setdefault(cls.name, cls)
    return dict(sorted(found.items(), key=lambda kv: (kv[1].recognition_order, kv[0])))
