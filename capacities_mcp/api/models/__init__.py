"""Typed models of every Capacities API request and response (the one source of truth)."""

from ._base import *  # noqa: F403
from ._base import __all__ as _base_all
from ._blocks import *  # noqa: F403
from ._blocks import __all__ as _blocks_all
from ._media import *  # noqa: F403
from ._media import __all__ as _media_all
from ._objects import *  # noqa: F403
from ._objects import __all__ as _objects_all
from ._properties import *  # noqa: F403
from ._properties import __all__ as _properties_all
from ._space import *  # noqa: F403
from ._space import __all__ as _space_all

__all__ = [*_base_all, *_blocks_all, *_properties_all, *_space_all, *_objects_all, *_media_all]
