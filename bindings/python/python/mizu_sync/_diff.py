"""What a live query delivers: its whole result first (:class:`QueryResult`), then a
:class:`QueryDiff` per change, made of :class:`Removed`, :class:`Inserted`, :class:`Moved` and
:class:`Updated` steps; :func:`apply_diff` applies one to a list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import (
    Any,
    Callable,
    Generic,
    Iterable,
    Iterator,
    List,
    MutableSequence,
    Tuple,
    TypeVar,
    Union,
)

from . import _errors, _native

T = TypeVar("T")


@dataclass(frozen=True)
class Removed:
    """The row at ``index`` left the result."""

    index: int
    id: str


@dataclass(frozen=True)
class Inserted(Generic[T]):
    """A row entered the result at ``index``."""

    index: int
    id: str
    value: T


@dataclass(frozen=True)
class Moved:
    """The row at ``from_`` moved to ``to``: removed, then inserted at ``to`` (an index in the
    list without it)."""

    from_: int
    to: int
    id: str


@dataclass(frozen=True)
class Updated(Generic[T]):
    """The row at ``index`` has a new value (and kept its place)."""

    index: int
    id: str
    value: T


QueryDiffOp = Union[Removed, Inserted[T], Moved, Updated[T]]
"""One step of a :class:`QueryDiff`."""


@dataclass(frozen=True)
class QueryDiff(Generic[T]):
    """The steps that turn a query's previous result into its new one, in order: each index
    refers to the list as the steps before it left it (Android DiffUtil's
    ``ListUpdateCallback`` convention), so a list UI can replay them one by one."""

    ops: List[QueryDiffOp[T]]

    def __iter__(self) -> Iterator[QueryDiffOp[T]]:
        return iter(self.ops)

    def __len__(self) -> int:
        return len(self.ops)


@dataclass(frozen=True)
class QueryResult(Generic[T]):
    """A query's whole result, as ``(id, value)`` rows in order."""

    rows: List[Tuple[str, T]]


QueryEvent = Union[QueryResult[T], QueryDiff[T]]
"""What :meth:`Query.diffs` yields: a :class:`QueryResult` first, then :class:`QueryDiff` s."""


def apply_diff(
    rows: MutableSequence[Tuple[str, T]], diff: Union[QueryDiff[T], Iterable[QueryDiffOp[T]]]
) -> MutableSequence[Tuple[str, T]]:
    """Applies ``diff`` to ``rows`` (``(id, value)`` pairs, the previous result) in place, step
    by step, and returns ``rows``. Raises ``ValueError`` when a step does not fit the list
    (the rows are not the result the diff was made against)."""
    for op in diff:
        if isinstance(op, Inserted):
            if not 0 <= op.index <= len(rows):
                raise ValueError(f"{op} does not fit a list of {len(rows)} rows")
            rows.insert(op.index, (op.id, op.value))
            continue
        at = op.from_ if isinstance(op, Moved) else op.index
        found = rows[at][0] if 0 <= at < len(rows) else None
        if found != op.id:
            raise ValueError(f"{op} does not fit the rows (found {found!r} there)")
        if isinstance(op, Removed):
            del rows[at]
        elif isinstance(op, Updated):
            rows[at] = (op.id, op.value)
        elif isinstance(op, Moved):
            row = rows.pop(at)
            if not 0 <= op.to <= len(rows):
                rows.insert(at, row)
                raise ValueError(f"{op} does not fit a list of {len(rows) + 1} rows")
            rows.insert(op.to, row)
        else:
            raise TypeError(f"not a query diff step: {op!r}")
    return rows


_REMOVED: Any = _native.QueryDiffOp.REMOVED
_INSERTED: Any = _native.QueryDiffOp.INSERTED
_MOVED: Any = _native.QueryDiffOp.MOVED
_UPDATED: Any = _native.QueryDiffOp.UPDATED


def lift_diff(ops: List[_native.QueryDiffOp], decode: Callable[[str], T]) -> QueryDiff[T]:
    """The wrapper's diff for the generated module's steps, values decoded by ``decode``."""
    out: List[QueryDiffOp[T]] = []
    # The variants (and their fields) are set at import time by the generated module: untyped.
    step: Any
    for step in ops:
        kind = type(step)
        if kind is _INSERTED:
            out.append(Inserted(step.index, step.id, decode(step.value_json)))
        elif kind is _REMOVED:
            out.append(Removed(step.index, step.id))
        elif kind is _UPDATED:
            out.append(Updated(step.index, step.id, decode(step.value_json)))
        elif kind is _MOVED:
            out.append(Moved(step._from, step.to, step.id))
        else:  # pragma: no cover - a step kind this wrapper does not know
            raise _errors.Internal(f"unknown query diff step {step!r}")
    return QueryDiff(out)
