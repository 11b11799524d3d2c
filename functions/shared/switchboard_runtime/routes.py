"""A route's declared event model, and its check against the registry.

A handler declares the model its ``ctx.data`` is, in its signature::

    if TYPE_CHECKING:
        from switchboard_runtime.events import BookingConfirmed

    @agent.on("booking.confirmed")
    def confirmed(ctx: Context[BookingConfirmed]) -> str:
        ctx.data.booking_id  # typed

Two steps, so that importing an agent's ``main`` stays cheap (no pydantic, no models: the
cold start of ``docs/performance.md``):

- :func:`declared`, when ``@agent.on`` registers the handler (at import): the first
  parameter must be annotated ``Context[Model]``. This reads the annotation alone (a string
  under ``from __future__ import annotations``), so the models may be imported under
  ``TYPE_CHECKING``. A handler without it is refused there, naming the handler.
- :func:`check`: the declared model, resolved in the handler's module and then in
  ``switchboard_runtime.events``, must be the model readers validate each registered type
  into (the newest version's, :func:`switchboard_runtime.events.read`) or a base class of
  it (the ledger's ``Context[Schema]`` reads every domain type). The runtime runs it once,
  before it handles its first delivery (a mismatch answers 500 and logs an ERROR: a bug
  of the revision, never dead-lettered), and at registration already when the models are
  loaded anyway (tests, tools: the check then costs nothing); ``Agent.check_routes()``
  runs it at will (the suite does for every agent, so a mismatch fails ``make test``).
"""

from __future__ import annotations

import ast
import inspect
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any


class RouteError(TypeError):
    """A handler's declared event model is missing or does not fit its event types."""


@dataclass(frozen=True, eq=False)  # one per handler, compared by identity
class Declared:
    """What a handler's signature declares: its name and its ``Context[...]`` model."""

    handler: str
    """``module.qualname`` of the handler, for messages."""
    model: str | type
    """The model as written (a dotted name) or, for an evaluated annotation, the class."""
    namespace: Mapping[str, Any]
    """The handler's module globals, where a written name is looked up first."""

    @property
    def model_name(self) -> str:
        return self.model if isinstance(self.model, str) else self.model.__qualname__


def declared(route: Callable[..., Any], context: type) -> Declared:
    """The model ``route`` declares as ``ctx: Context[Model]``; RouteError otherwise.

    ``context`` is the runtime's ``Context`` class (a generic alias of it is accepted)."""
    handler = f"{getattr(route, '__module__', '?')}.{getattr(route, '__qualname__', route)}"
    example = f"def {getattr(route, '__name__', 'handler')}(ctx: Context[BookingConfirmed])"
    try:
        parameters = list(inspect.signature(route).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    if not parameters or parameters[0].annotation is inspect.Parameter.empty:
        raise RouteError(
            f"route {handler} must declare its event model on its context parameter "
            f"(e.g. {example})"
        )
    annotation = parameters[0].annotation
    model = (
        _written_model(annotation, context.__name__)
        if isinstance(annotation, str)
        else _evaluated_model(annotation, context)
    )
    if model is None:
        raise RouteError(
            f"route {handler} declares its context as {_shown(annotation)}, not "
            f"{context.__name__}[Model] with the event model (e.g. {example})"
        )
    return Declared(handler, model, getattr(route, "__globals__", {}))


def check(route: Declared, event_types: Iterable[str]) -> None:
    """RouteError unless every type's read model is ``route``'s declared model or a
    subclass of it (and the type is in the registry)."""
    from switchboard_runtime import events

    model = resolve(route)
    for event_type in event_types:
        spec = events.EVENT_TYPES.get(event_type)
        if spec is None:
            raise RouteError(
                f"route {route.handler} is registered for {event_type!r}, which is not an "
                "event type (switchboard_runtime.events.EVENT_TYPES)"
            )
        reads = spec.versions[-1].model
        if not issubclass(reads, model):
            raise RouteError(
                f"route {route.handler} is registered for {event_type!r}, whose data is read "
                f"as {reads.__name__}, but declares Context[{route.model_name}]: declare "
                f"Context[{reads.__name__}] (or register it for the type it reads)"
            )


def resolve(route: Declared) -> type:
    """The declared model class: the written name looked up in the handler's module, then
    in ``switchboard_runtime.events`` (where the models live: agents import them there
    under ``TYPE_CHECKING``)."""
    from switchboard_runtime import events

    if not isinstance(route.model, str):
        return route.model
    first, *rest = route.model.split(".")
    for namespace in (route.namespace, vars(events)):
        if first in namespace:
            value = namespace[first]
            try:
                for part in rest:
                    value = getattr(value, part)
            except AttributeError:
                continue
            if isinstance(value, type):
                return value
    raise RouteError(
        f"route {route.handler} declares Context[{route.model}], which is no class in its "
        "module nor in switchboard_runtime.events"
    )


def _written_model(annotation: str, context_name: str) -> str | None:
    """``"Model"`` from the string ``"Context[Model]"`` (dotted names allowed), else None."""
    try:
        tree = ast.parse(annotation, mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(tree, ast.Subscript):
        return None
    outer = _dotted(tree.value)
    if outer is None or outer.rsplit(".", 1)[-1] != context_name:
        return None
    return _dotted(tree.slice)


def _evaluated_model(annotation: Any, context: type) -> type | None:
    if typing.get_origin(annotation) is not context:
        return None
    (model,) = typing.get_args(annotation) or (None,)
    return model if isinstance(model, type) else None


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _shown(annotation: Any) -> str:
    return (
        annotation
        if isinstance(annotation, str)
        else getattr(annotation, "__name__", repr(annotation))
    )
