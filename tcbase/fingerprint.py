"""Cheap structural snapshots of torch models, to notice when a shared model changes.

take() records a model's modules, tensors, hooks and plain attributes as flat tuples
that hold no reference to the model; == compares two snapshots, diff() names changes.
"""

from __future__ import annotations

import gc
import operator
import weakref
from dataclasses import dataclass, field
from itertools import chain, compress, repeat, zip_longest
from operator import attrgetter, itemgetter
from types import ModuleType
from typing import Any

__all__ = ["Changes", "Fingerprint", "diff", "same", "take"]

# How take() stays fast: it reads the model through C-level iterators (map, chain,
# itemgetter) over flat lists, in breadth-first order (the roots, then the non-None
# children of each module in turn), and stores no names; diff() rebuilds them from the
# child names. A per-model _Plan remembers the last snapshot so that the plain
# attributes are read with one itemgetter per module rather than by scanning every
# __dict__ entry, and so that unchanged parts are shared with the last snapshot (which
# makes == between them an identity check).

_SCALARS = frozenset({int, float, bool, str, type(None)})
_NONE_ID = id(None)
_HOOK_DICTS = (
    "_forward_hooks",
    "_forward_pre_hooks",
    "_backward_hooks",
    "_backward_pre_hooks",
    "_state_dict_hooks",
    "_state_dict_pre_hooks",
    "_load_state_dict_pre_hooks",
    "_load_state_dict_post_hooks",
)
_HOOK_KINDS = (
    "forward hook",
    "forward pre-hook",
    "backward hook",
    "backward pre-hook",
    "state_dict hook",
    "state_dict pre-hook",
    "load_state_dict pre-hook",
    "load_state_dict post-hook",
)
_NO_HOOKS = ((),) * len(_HOOK_DICTS)
# Plain-typed entries of a module's __dict__ that belong to torch: "training" is read
# with the plain attributes but reported on its own; the backward-hook flag only pads
# an itemgetter that would otherwise have a single key (and return a bare value).
_OWN_KEYS = ("training", "_is_full_backward_hook")

_get_dict = attrgetter("__dict__")
_get_tree = itemgetter("_modules", "_parameters", "_buffers")
# A level of the walk this wide is read in one pass rather than three: three passes
# over its dicts cost less while they stay in the CPU cache, more once they do not.
_WIDE_LEVEL = 4096
_get_modules = itemgetter("_modules")
_get_parameters = itemgetter("_parameters")
_get_buffers = itemgetter("_buffers")
_get_hooks = itemgetter(*_HOOK_DICTS)
# What a snapshot reads of each tensor; diff() names the first four.
_META_ATTRIBUTES = ("shape", "dtype", "device", "requires_grad", "_version")
_get_meta = attrgetter(*_META_ATTRIBUTES)
_values = dict.values
_getitem = dict.__getitem__
# operator.call is Python 3.11+; the slot wrapper does the same, a little slower.
_call_getter = getattr(operator, "call", itemgetter.__call__)

# Keys _scan() leaves out: torch's own, and "forward", recorded on its own
# (_FORWARDS) whether plain or not.
_internal_keys: frozenset[str] = frozenset()
_FORWARD_NAMES = repeat("forward")
_handle_class: Any = None
_module_class: Any = None


def _load_torch() -> None:
    global _internal_keys, _handle_class, _module_class
    import torch
    from torch.utils.hooks import RemovableHandle

    _internal_keys = frozenset(torch.nn.Module().__dict__) | {"training", "forward"}
    _handle_class = RemovableHandle
    _module_class = torch.nn.Module


def _is_plain(value: Any) -> bool:
    kind = type(value)
    if kind in _SCALARS:
        return True
    if kind is not tuple:
        return False
    # Tuples of plain values, nested less than _PLAIN_DEPTH deep: comparing and
    # hashing tuples recurse, so deeper ones count as not plain (not recorded).
    pending = [(value, 1)]
    while pending:
        items, depth = pending.pop()
        for item in items:
            kind = type(item)
            if kind is tuple:
                if depth + 1 >= _PLAIN_DEPTH:
                    return False
                pending.append((item, depth + 1))
            elif kind not in _SCALARS:
                return False
    return True


_PLAIN_DEPTH = 64


# Layout of Fingerprint._key, by index. Per-module entries are in breadth-first order;
# tensors are all modules' parameters, then all modules' buffers. Children and tensors
# are flat: counts per module (per dict), then names and ids. The per-module parts
# built while walking stay lists (never changed afterwards): copying them into tuples
# would cost time and == treats them alike, as every snapshot of modules has lists.
_ROOTS, _CLASSES, _ROOT_IDS, _KID_COUNTS, _KID_NAMES, _KID_IDS = range(6)
_PLAIN_KEYS, _PLAIN_VALUES, _HOOKS = range(6, 9)
_TENSOR_COUNTS, _TENSOR_NAMES, _TENSOR_IDS, _META, _WRAPPER = range(9, 14)
# Forwards patched on instances ("forward" in a module's __dict__, as tests do with
# ``layer.forward = ...``): (module indices, ids of the functions).
_FORWARDS = 14
_EMPTY_KEY: tuple = ((),) * 15
_SHARED = (
    _CLASSES,
    _KID_COUNTS,
    _KID_NAMES,
    _KID_IDS,
    _TENSOR_COUNTS,
    _TENSOR_NAMES,
    _TENSOR_IDS,
    _META,
)


class Fingerprint:
    """A snapshot of a model's structure; compare two with == (or same()).

    Holds ids, ints, strings, classes and tensor metadata, never the model."""

    __slots__ = ("_key", "label")

    def __init__(self, key: tuple, label: str) -> None:
        self._key = key
        self.label = label

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Fingerprint):
            return NotImplemented
        return self._key == other._key

    __hash__ = None  # type: ignore[assignment]

    @property
    def modules(self) -> int:
        """Modules recorded, each once (however many names reach it)."""
        return len(self._key[_CLASSES])

    @property
    def tensors(self) -> int:
        """Parameter and buffer slots recorded, None entries included."""
        return len(self._key[_TENSOR_IDS])

    @property
    def plain_attributes(self) -> int:
        """Plain attributes recorded, over all modules."""
        own = frozenset(_OWN_KEYS)
        return sum(len(set(keys) - own) for keys in self._key[_PLAIN_KEYS])

    @property
    def entries(self) -> int:
        """Entries recorded: modules, tensor slots and plain attributes."""
        return self.modules + self.tensors + self.plain_attributes

    def __len__(self) -> int:
        """The same as ``entries``."""
        return self.entries

    def __repr__(self) -> str:
        return (
            f"<Fingerprint {self.label}: {self.modules} modules, {self.tensors} "
            f"tensors, {self.plain_attributes} plain attributes>"
        )


def same(before: Fingerprint, after: Fingerprint) -> bool:
    """True when two fingerprints record the same state (the same as ==)."""
    return before._key == after._key


class _Plan:
    """What take() learnt from a model last time; strings, ints and types only."""

    __slots__ = (
        "key",
        "lengths",
        "getters",
        "with_others",
        "other_getters",
        "with_ignored",
        "ignored_getters",
        "values_hash",
        "level_ids",
        "level_masks",
        "forwards",
        "hook_epoch",
    )

    def __init__(self, lengths: tuple, scans: list, forwards: tuple) -> None:
        self.key: tuple = ()
        # len(module.__dict__) of each module: with the keys below all present, an
        # unchanged length means an unchanged set of attribute names.
        self.lengths = lengths
        # One itemgetter per module, for "training" and its plain attributes; and
        # one per module that has attributes that were not plain, for those (to
        # notice one that goes or becomes plain), padded to two keys so that it
        # returns a tuple.
        self.getters = [itemgetter(*keys) for keys, _, _ in scans]
        self.with_others = [bool(others) for _, others, _ in scans]
        self.other_getters = [_tuple_getter(others) for _, others, _ in scans if others]
        # And one per module that has attributes named in ``ignore``: their values
        # are not read, but one deleted would make room in an unchanged length for
        # an attribute that no getter reads.
        self.with_ignored = [bool(ignored) for _, _, ignored in scans]
        self.ignored_getters = [
            _tuple_getter(ignored) for _, _, ignored in scans if ignored
        ]
        # hash() of the plain values: == alone takes 1.0 -> torch.tensor(1.0) for no
        # change (a value that is no longer plain), the hash tells them apart.
        self.values_hash = 0
        # The walk's child ids, level by level, and which children it entered (None:
        # all): what guides the next quick walk.
        self.level_ids: list = []
        self.level_masks: list = []
        # Indices of the modules with "forward" in their __dict__.
        self.forwards = forwards
        # RemovableHandle.next_id when the model was last seen without hooks, else
        # None. The counter grows with every hook registered anywhere, so if it has
        # not moved, the model still has no hooks.
        self.hook_epoch: int | None = None


def _tuple_getter(names: list[str]) -> itemgetter:
    """An itemgetter of ``names`` that returns a tuple even for a single name."""
    return itemgetter(*names, names[0]) if len(names) == 1 else itemgetter(*names)


# Plans by model (weakly, so that a plan never keeps a model alive), then by ignore
# and root names.
_plans: weakref.WeakKeyDictionary[Any, dict[tuple, _Plan]]
_plans = weakref.WeakKeyDictionary()


def take(model: Any, ignore: frozenset[str] = frozenset()) -> Fingerprint:
    """Snapshot ``model``: a module, a torch.compile wrapper, or an object holding
    modules in its attributes. Names in ``ignore`` are skipped, in every module, as
    plain attributes, parameters and buffers (not as submodules).

    What a snapshot cannot see: tensor contents (an in-place write shows through
    the version counter, but ``t.data = other`` with the same shape, dtype and
    device does not, and an inference tensor has no version counter); an object
    freed and another made at the same address (identity is id()); a hook put
    straight into a module's hook dict while no hook handle is made anywhere; a
    torch-internal entry of a module's __dict__ (a hook dict, say) deleted while
    another attribute is added; and plain values are compared with == and hash(),
    so True -> 1, or a tuple replaced by an equal named tuple, is no change. A
    module reached by several names is recorded once, under the first name
    named_modules() gives it.
    """
    if _module_class is None:
        _load_torch()
    ignore = frozenset((ignore,) if isinstance(ignore, str) else ignore)
    wrapper: tuple = ()
    if isinstance(model, _module_class):
        while type(model).__name__ == "OptimizedModule" and (
            "_orig_mod" in model.__dict__.get("_modules", ())
        ):
            hooks = tuple(map(tuple, _get_hooks(model.__dict__)))
            wrapper += (hooks,)
            model = model.__dict__["_modules"]["_orig_mod"]
        if wrapper.count(_NO_HOOKS) == len(wrapper):
            wrapper = ()
        roots = [("", model)]
    else:
        roots = _find_roots(model)
        if not roots:
            return Fingerprint(_EMPTY_KEY, type(model).__name__)
    # The plan is kept per object passed in, or per its first module that can be a
    # weak dictionary key; with none, there is no plan and every take walks with
    # care.
    owners = (model, *(module for _, module in roots))
    owner = next(filter(_can_own_plan, owners), None)
    # A take allocates a few thousand small tuples, enough to set off a collection
    # of the young generation most times; pausing the collector saves about 10%.
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        key = _take(roots, ignore, wrapper, owner)
    finally:
        if paused:
            gc.enable()
    return Fingerprint(key, type(model).__name__)


def _can_own_plan(obj: Any) -> bool:
    try:
        weakref.ref(obj)
        hash(obj)
    except TypeError:
        return False
    return True


def _find_roots(obj: Any) -> list[tuple[str, Any]]:
    """Modules reachable from a non-module's attributes, named by attribute path:
    attributes, items of list, tuple and dict attributes, and the attributes of
    objects found there (so both ``holder.model`` and ``pipeline.stages[i].model``,
    named ``stages.<i>.model``, are found)."""
    found: list[tuple[str, Any]] = []
    module = _module_class

    def visit_object(value: Any, prefix: str, nested: bool) -> None:
        if isinstance(value, (type, ModuleType)):
            return
        for name, item in _attributes(value):
            if name.startswith("__") and name.endswith("__"):
                continue
            path = f"{prefix}.{name}" if prefix else name
            if isinstance(item, module):
                found.append((path, item))
            elif nested:
                continue
            elif isinstance(item, (list, tuple, dict)):
                pairs = item.items() if isinstance(item, dict) else enumerate(item)
                for index, element in pairs:
                    if isinstance(element, module):
                        found.append((f"{path}.{index}", element))
                    else:
                        visit_object(element, f"{path}.{index}", True)
            else:
                visit_object(item, path, True)

    visit_object(obj, "", False)
    # By name, so that the order in which a holder's attributes were set does not
    # count (the walk's order, and so the snapshot, follows the roots').
    found.sort(key=itemgetter(0))
    return found


def _attributes(value: Any) -> list[tuple[str, Any]]:
    """An object's attributes: its __dict__ entries, then its slots that are set."""
    attrs = getattr(value, "__dict__", None)
    found = list(attrs.items()) if isinstance(attrs, dict) else []
    for cls in type(value).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name in ("__dict__", "__weakref__"):
                continue
            if name.startswith("__") and not name.endswith("__"):
                name = f"_{cls.__name__.lstrip('_')}{name}"  # a private slot
            try:
                found.append((name, getattr(value, name)))
            except AttributeError:  # a slot not set
                continue
    return found


def _take(
    roots: list, ignore: frozenset, wrapper: tuple, owner: Any, careful: bool = False
) -> tuple:
    # A plan per owner, ignore and root names: a holder that cannot own a plan
    # lends one from its first module that can, which may be taken on its own too.
    plan_key = (ignore, tuple(name for name, _ in roots))
    plans = None if owner is None else _plans.get(owner)
    plan = None if plans is None else plans.get(plan_key)
    # Each module is entered once, as named_modules() does: a module reachable by
    # two names, or its own descendant, is walked the first time it is reached. The
    # careful walk filters each level's children through the ids seen so far. The
    # quick one, from the same roots as the last snapshot, compares each level's
    # child ids with the last walk's and, while they are equal, filters with the
    # last walk's mask: equal ids level by level mean the same modules met, so the
    # same filter. At the first level that differs it walks again with care.
    root_ids = tuple(id(module) for _, module in roots)
    level = list({id(module): module for _, module in roots}.values())  # once each
    careful = careful or plan is None or plan.key[_ROOT_IDS] != root_ids
    seen = {_NONE_ID, *root_ids}
    walked_ids: list = []  # per level, for the next quick walk
    walked_masks: list = []
    depth = 0
    classes: list = []
    dicts: list = []
    kid_counts: list = []
    kid_names: list = []
    kid_ids: list = []
    param_dicts: list = []
    buffer_dicts: list = []
    while level:
        classes += map(type, level)
        level_dicts = list(map(_get_dict, level))
        dicts += level_dicts
        if len(level_dicts) < _WIDE_LEVEL:
            level_mods = list(map(_get_modules, level_dicts))
            param_dicts += map(_get_parameters, level_dicts)
            buffer_dicts += map(_get_buffers, level_dicts)
        else:
            # One lookup of the three per module __dict__ (each pass over 10^5
            # dicts misses the cache anew), flat, then taken apart by slicing.
            flat = list(chain.from_iterable(map(_get_tree, level_dicts)))
            level_mods = flat[0::3]
            param_dicts += flat[1::3]
            buffer_dicts += flat[2::3]
            del flat
        counts = list(map(len, level_mods))
        kid_counts += counts
        if not careful and (
            depth == len(plan.level_ids) or sum(counts) != len(plan.level_ids[depth])
        ):
            # Not the last walk's children (many more, say: a wide module met
            # many times): no need to list them to know.
            return _take(roots, ignore, wrapper, owner, careful=True)
        full = list(compress(level_mods, counts))  # most modules are leaves
        kid_names += chain.from_iterable(full)
        kids = list(chain.from_iterable(map(_values, full)))
        ids = list(map(id, kids))
        if _NONE_ID in ids:
            kids = [kid for kid in kids if kid is not None]
        if careful:
            fresh = set(ids)
            fresh.discard(_NONE_ID)
            mask = None
            if len(fresh) == len(kids) and seen.isdisjoint(fresh):
                seen |= fresh  # none met before: no need to filter one by one
            else:
                mask = [id(kid) not in seen and not seen.add(id(kid)) for kid in kids]
                kids = list(compress(kids, mask))
            walked_ids.append(ids)
            walked_masks.append(mask)
            kid_ids += ids
        else:
            if ids != plan.level_ids[depth]:
                return _take(roots, ignore, wrapper, owner, careful=True)
            mask = plan.level_masks[depth]
            if mask is not None:
                kids = list(compress(kids, mask))
        level = kids
        depth += 1
    if careful:
        walked = (walked_ids, walked_masks)
    else:
        if depth != len(plan.level_ids):
            return _take(roots, ignore, wrapper, owner, careful=True)
        kid_ids = plan.key[_KID_IDS]  # equal, level by level
        walked = (plan.level_ids, plan.level_masks)
    lengths = tuple(map(len, dicts))
    # All modules' parameters, then all modules' buffers.
    tensor_dicts = param_dicts + buffer_dicts
    del param_dicts, buffer_dicts
    if ignore:
        tensor_dicts = _without(tensor_dicts, ignore)
    tensor_counts = tuple(map(len, tensor_dicts))
    full = list(compress(tensor_dicts, tensor_counts))
    tensors = list(chain.from_iterable(map(_values, full)))
    tensor_ids = tuple(map(id, tensors))
    if _NONE_ID in tensor_ids:
        tensors = [tensor for tensor in tensors if tensor is not None]
    try:
        meta = tuple(map(_get_meta, tensors))
    except (AttributeError, RuntimeError):  # not a tensor; an inference tensor
        meta = tuple(map(_odd_meta, tensors))
    key = [
        plan_key[1],
        classes,
        root_ids,
        kid_counts,
        kid_names,
        kid_ids,
        None,
        None,
        None,
        tensor_counts,
        tuple(chain.from_iterable(full)),
        tensor_ids,
        meta,
        wrapper,
        None,
    ]

    # Share what is unchanged with the last snapshot: memory, and == becomes "is".
    if plan is not None:
        last = plan.key
        for index in _SHARED:
            if last[index] == key[index]:
                key[index] = last[index]
    same_layout = (
        plan is not None
        and plan.key[_CLASSES] is key[_CLASSES]
        and plan.key[_KID_IDS] is key[_KID_IDS]
        and plan.key[_ROOT_IDS] == root_ids
        and plan.lengths == lengths
    )

    # Plain attributes. With an unchanged layout the last plan's keys still apply:
    # if the values are equal too, keep the last (already checked) ones; if they
    # changed, check they are still plain; anything else means scanning everything.
    values = None
    if same_layout:
        try:
            values, others = _read(plan, dicts)
            if plan.ignored_getters:
                ignored = compress(dicts, plan.with_ignored)
                for _ in map(_call_getter, plan.ignored_getters, ignored):
                    pass
            forwards = plan.forwards
            patched = map(_getitem, map(dicts.__getitem__, forwards), _FORWARD_NAMES)
            key[_FORWARDS] = (forwards, tuple(map(id, patched)))
        except KeyError:  # an attribute went: scan
            values = None
        else:
            kinds = set(map(type, others))
            if not _SCALARS.isdisjoint(kinds) or (
                tuple in kinds and any(map(_is_plain, others))
            ):
                values = None  # an attribute became plain: scan
            else:
                try:
                    unchanged = (
                        values == plan.key[_PLAIN_VALUES]
                        and hash(values) == plan.values_hash
                    )
                except Exception:  # an odd __eq__, or unhashable: no longer plain
                    unchanged = False
                if unchanged:
                    values = plan.key[_PLAIN_VALUES]
                elif all(map(_is_plain, chain.from_iterable(values))):
                    plan.values_hash = hash(values)
                else:
                    values = None  # an attribute is no longer plain: scan
            del others
    if values is None:
        scans = [_scan(attrs, ignore) for attrs in dicts]
        key[_PLAIN_KEYS] = tuple(keys for keys, _, _ in scans)
        forwards = tuple(i for i, attrs in enumerate(dicts) if "forward" in attrs)
        patched = (dicts[i]["forward"] for i in forwards)
        key[_FORWARDS] = (forwards, tuple(map(id, patched)))
        hook_epoch = None
        plan = _Plan(lengths, scans, forwards)
        values = _read(plan, dicts)[0]
        plan.values_hash = hash(values)
    else:
        key[_PLAIN_KEYS] = plan.key[_PLAIN_KEYS]
        hook_epoch = plan.hook_epoch
    key[_PLAIN_VALUES] = values

    # Hooks: none last time and no hook registered anywhere since means none now.
    epoch = getattr(_handle_class, "next_id", None)
    if hook_epoch is not None and epoch == hook_epoch:
        key[_HOOKS] = ()
    else:
        hooks: tuple = ()
        if any(chain.from_iterable(map(_get_hooks, dicts))):
            hooks = tuple(
                (index, tuple(map(tuple, found)))
                for index, found in enumerate(map(_get_hooks, dicts))
                if any(found)
            )
        key[_HOOKS] = hooks
        plan.hook_epoch = None if hooks else epoch

    plan.level_ids, plan.level_masks = walked
    final = tuple(key)
    if plan.key == () and owner is not None:
        if plans is None:
            plans = _plans[owner] = {}
        plans[plan_key] = plan
    plan.key = final
    return final


def _read(plan: _Plan, dicts: list) -> tuple[tuple, list]:
    """Each module's plain values (a tuple per module) and its other attributes
    (flat); KeyError if an attribute the plan knows has gone."""
    values = tuple(map(_call_getter, plan.getters, dicts))
    with_others = compress(dicts, plan.with_others)
    others = map(_call_getter, plan.other_getters, with_others)
    return values, list(chain.from_iterable(others))


def _scan(attrs: dict, ignore: frozenset) -> tuple[tuple[str, ...], list, list]:
    """One module's itemgetter keys, the names of its other attributes, and the
    names of its attributes in ``ignore``.

    The keys are "training", then the plain attributes in sorted order (so that
    deleting and re-adding one changes nothing), padded to two keys so that the
    itemgetter returns a tuple."""
    if "training" not in attrs:
        raise TypeError("not an initialised torch.nn.Module: no 'training' attribute")
    internal = _internal_keys
    plain = []
    others = []
    ignored = []
    for key, value in attrs.items():
        if key in internal:
            continue
        if key in ignore:
            ignored.append(key)
        else:
            (plain if _is_plain(value) else others).append(key)
    keys = ["training", *sorted(plain, key=str)]
    if len(keys) < 2:
        keys.append(_OWN_KEYS[1] if _OWN_KEYS[1] in attrs else "training")
    return tuple(keys), others, ignored


def _without(dicts: list, ignore: frozenset) -> list:
    if ignore.isdisjoint(chain.from_iterable(dicts)):
        return dicts
    return [
        {key: value for key, value in d.items() if key not in ignore}
        if d and not ignore.isdisjoint(d)
        else d
        for d in dicts
    ]


def _odd_meta(tensor: Any) -> tuple:
    """Tensor metadata, None for what cannot be read: an inference tensor has no
    version counter (so an in-place write to it is not seen)."""
    return tuple(map(_read_attribute, repeat(tensor), _META_ATTRIBUTES))


def _read_attribute(obj: Any, name: str) -> Any:
    try:
        return getattr(obj, name)
    except (AttributeError, RuntimeError):
        return None


# ---------------------------------------------------------------------------- diff


@dataclass(frozen=True)
class Changes:
    """What differs between two fingerprints: at most ``limit`` messages per list,
    with the full counts in ``structural_total`` and ``plain_total``."""

    structural: list[str] = field(default_factory=list)
    plain: list[str] = field(default_factory=list)
    structural_total: int = 0
    plain_total: int = 0

    @property
    def total(self) -> int:
        return self.structural_total + self.plain_total

    def __bool__(self) -> bool:
        return self.total > 0

    def lines(self) -> list[str]:
        """The kept messages, each list followed by "... and N more" when cut."""
        out = list(self.structural)
        if self.structural_total > len(self.structural):
            out.append(f"... and {self.structural_total - len(self.structural)} more")
        out += self.plain
        if self.plain_total > len(self.plain):
            out.append(f"... and {self.plain_total - len(self.plain)} more")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


class _View:
    """One module of a fingerprint, unpacked for diff()."""

    __slots__ = ("id", "name", "cls", "kids", "tensors", "plain", "hooks", "forward")

    def __init__(self, cls: type) -> None:
        self.id = 0
        self.name: str | None = None  # None until named
        self.cls = cls
        self.kids: dict[str, int] = {}
        self.tensors: dict[str, tuple] = {}
        self.plain: dict[str, Any] = {}
        self.hooks: tuple = _NO_HOOKS
        self.forward: int | None = None  # id of a forward patched on the instance


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _unpack(key: tuple) -> tuple[dict[str, _View], dict[int, type]]:
    """Module views by qualified name in named_modules() order, each module once
    under the first name named_modules() gives it, and the class of each module
    id."""
    roots, classes = key[_ROOTS], key[_CLASSES]
    views = [_View(cls) for cls in classes]
    # The walk's order: the roots, then each child the first time it is met.
    walked = list(dict.fromkeys(key[_ROOT_IDS]))
    seen = {_NONE_ID, *walked}
    kid_names = iter(key[_KID_NAMES])
    kid_ids = iter(key[_KID_IDS])
    for index, (view, count) in enumerate(zip(views, key[_KID_COUNTS], strict=True)):
        view.id = walked[index]
        for _ in range(count):
            kid, kid_id = next(kid_names), next(kid_ids)
            view.kids[kid] = kid_id
            if kid_id not in seen:
                seen.add(kid_id)
                walked.append(kid_id)
    plain = zip(views, key[_PLAIN_KEYS], key[_PLAIN_VALUES], strict=True)
    for view, keys, values in plain:
        view.plain = dict(zip(keys, values, strict=True))
    for index, found in key[_HOOKS]:
        views[index].hooks = found
    for index, forward_id in zip(*key[_FORWARDS] or ((), ()), strict=True):
        views[index].forward = forward_id
    meta = iter(key[_META])
    tensor_names = iter(key[_TENSOR_NAMES])
    tensor_ids = iter(key[_TENSOR_IDS])
    counts = iter(key[_TENSOR_COUNTS])
    for kind in ("parameter", "buffer"):
        for view in views:
            for _ in range(next(counts)):
                tensor_id = next(tensor_ids)
                info = None if tensor_id == _NONE_ID else next(meta)
                view.tensors[next(tensor_names)] = (kind, tensor_id, info)
    by_id = {view.id: view for view in views}
    # Names as named_modules() gives them: depth first, each module once.
    ordered: dict[str, _View] = {}
    stack = list(zip(roots, key[_ROOT_IDS], strict=True))[::-1]
    while stack:
        name, module_id = stack.pop()
        view = by_id[module_id]
        if view.name is not None:
            continue
        view.name = name
        ordered[name] = view
        stack += (
            (_join(name, kid), kid_id)
            for kid, kid_id in reversed(view.kids.items())
            if kid_id != _NONE_ID
        )
    return ordered, dict(zip(walked, classes, strict=True))


class _Sink:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept: list[str] = []
        self.total = 0

    def add(self, message: str) -> None:
        self.total += 1
        if len(self.kept) < self.limit:
            self.kept.append(message)


def diff(before: Fingerprint, after: Fingerprint, limit: int = 10) -> Changes:
    """Describe what changed from ``before`` to ``after``, by qualified name (the
    root module itself is named by its class)."""
    if before._key == after._key:
        return Changes()
    structural = _Sink(limit)
    plain = _Sink(limit)
    old, old_classes = _unpack(before._key)
    new, new_classes = _unpack(after._key)
    root_label = after.label or before.label

    def label(name: str) -> str:
        return name or root_label

    for was, now in zip_longest(
        before._key[_WRAPPER], after._key[_WRAPPER], fillvalue=_NO_HOOKS
    ):
        _hook_messages("OptimizedModule", was, now, structural)
    old_roots = dict(zip(before._key[_ROOTS], before._key[_ROOT_IDS], strict=True))
    new_roots = dict(zip(after._key[_ROOTS], after._key[_ROOT_IDS], strict=True))
    for name, old_id in old_roots.items():
        new_id = new_roots.get(name)
        if new_id is None:
            structural.add(f"{label(name)}: removed")
        elif new_id != old_id and name:
            structural.add(f"{label(name)}: replaced")
    for name in new_roots:
        if name not in old_roots:
            structural.add(f"{label(name)}: added")
    # A module is compared with itself (by id), under the name it has now: one
    # removed or replaced is said where it hung, and one still reachable by another
    # name is still compared.
    new_by_id = {view.id: view for view in new.values()}
    pairs = [(was, new_by_id[was.id]) for was in old.values() if was.id in new_by_id]
    for was, now in pairs:
        if was.forward != now.forward:
            change = "replaced" if now.forward is not None else "restored"
            structural.add(f"{label(now.name)}: forward {change} on the instance")
    for was, now in pairs:
        name = now.name
        where = label(name)
        if was.cls is not now.cls:
            old_name, new_name = was.cls.__name__, now.cls.__name__
            structural.add(f"{where}: class {old_name} -> {new_name}")
        _kid_messages(where, name, was, now, (old_classes, new_classes), structural)
        _hook_messages(where, was.hooks, now.hooks, structural)
        _tensor_messages(where, name, was, now, structural)
        _plain_messages(where, name, was, now, structural, plain)
    if not structural.total and not plain.total:
        structural.add(f"{root_label}: changed (no difference could be named)")
    return Changes(structural.kept, plain.kept, structural.total, plain.total)


_MISSING = object()


def _kid_messages(
    where: str, name: str, was: _View, now: _View, classes: tuple, sink: _Sink
) -> None:
    if was.kids == now.kids:
        if list(was.kids) != list(now.kids):
            sink.add(f"{where}: submodules reordered")
        return
    old_classes, new_classes = classes
    for kid, old_id in was.kids.items():
        new_id = now.kids.get(kid, _MISSING)
        if new_id == old_id:
            continue
        if new_id is _MISSING:
            sink.add(f"{where}: submodule {kid} removed")
        elif new_id == _NONE_ID:
            sink.add(f"{where}: submodule {kid} set to None")
        elif old_id == _NONE_ID:
            sink.add(f"{where}: submodule {kid} added")
        else:
            old_cls, new_cls = old_classes.get(old_id), new_classes.get(new_id)
            if old_cls is new_cls or old_cls is None or new_cls is None:
                sink.add(f"{where}: submodule {kid} replaced")
            else:
                sink.add(
                    f"{where}: submodule {kid} replaced "
                    f"({old_cls.__name__} -> {new_cls.__name__})"
                )
    for kid, new_id in now.kids.items():
        if kid not in was.kids:
            suffix = " (None)" if new_id == _NONE_ID else ""
            sink.add(f"{where}: submodule {kid} added{suffix}")


def _hook_messages(where: str, was: tuple, now: tuple, sink: _Sink) -> None:
    if was == now:
        return
    for kind, old_ids, new_ids in zip(_HOOK_KINDS, was, now, strict=True):
        added = len(set(new_ids) - set(old_ids))
        removed = len(set(old_ids) - set(new_ids))
        for number, verb in ((added, "registered"), (removed, "removed")):
            if number == 1:
                sink.add(f"{where}: {kind} {verb}")
            elif number:
                sink.add(f"{where}: {number} {kind}s {verb}")
        if not added and not removed and old_ids != new_ids:
            sink.add(f"{where}: {kind}s reordered")


_META_NAMES = _META_ATTRIBUTES[:4]


def _tensor_messages(
    where: str, name: str, was: _View, now: _View, sink: _Sink
) -> None:
    if was.tensors == now.tensors:
        if list(was.tensors) != list(now.tensors):
            sink.add(f"{where}: parameters or buffers reordered")
        return
    for tensor, (old_kind, old_id, old_info) in was.tensors.items():
        qualified = _join(name, tensor)
        entry = now.tensors.get(tensor)
        if entry is None:
            sink.add(f"{qualified}: deleted")
            continue
        new_kind, new_id, new_info = entry
        if old_kind != new_kind:
            sink.add(f"{qualified}: {old_kind} -> {new_kind}")
        if old_id != new_id:
            if new_info is None:
                sink.add(f"{qualified}: set to None")
            elif old_info is None:
                sink.add(f"{qualified}: set (was None)")
            else:
                sink.add(f"{qualified}: replaced")
            continue
        if old_info == new_info:
            continue
        for aspect, old_value, new_value in zip(
            _META_NAMES, old_info, new_info, strict=False
        ):
            if old_value != new_value:
                shown = f"{_show(old_value)} -> {_show(new_value)}"
                sink.add(f"{qualified}: {aspect} {shown}")
        if old_info[4] != new_info[4]:
            versions = f"version {old_info[4]} -> {new_info[4]}"
            sink.add(f"{qualified}: written in place ({versions})")
    for tensor, (_, new_id, _) in now.tensors.items():
        if tensor not in was.tensors:
            suffix = " (None)" if new_id == _NONE_ID else ""
            sink.add(f"{_join(name, tensor)}: added{suffix}")


def _show(value: Any) -> str:
    if isinstance(value, tuple):  # torch.Size
        return repr(tuple(value))
    return str(value)


def _plain_messages(
    where: str, name: str, was: _View, now: _View, structural: _Sink, plain: _Sink
) -> None:
    if was.plain == now.plain:
        return
    old_training = was.plain.get("training")
    new_training = now.plain.get("training")
    if old_training != new_training:
        structural.add(f"{where}: training {old_training} -> {new_training}")
    for key, old_value in was.plain.items():
        if key in _OWN_KEYS:
            continue
        new_value = now.plain.get(key, _MISSING)
        if new_value is _MISSING:
            plain.add(f"{_join(name, key)}: deleted")
        elif new_value != old_value:
            plain.add(f"{_join(name, key)}: {old_value!r} -> {new_value!r}")
    for key, new_value in now.plain.items():
        if key not in was.plain and key not in _OWN_KEYS:
            plain.add(f"{_join(name, key)}: set to {new_value!r}")
