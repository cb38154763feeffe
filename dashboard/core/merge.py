"""How items from several sources become one list (pure).

Sources are merged in config order. An item whose name and lead unit (compared
after removing spaces and punctuation) match an item of an earlier source is the
same item: fields the earlier source left empty are filled from the later one,
and `field_sources` records which source gave each field. The first source wins
where both have a value. Within one source, items are never merged.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import fields

from dashboard.core.items import Item

_PUNCT_RE = re.compile(r"[\s\"'“”‘’《》「」()（）【】\[\],，、。:：;；]+")
_SKIP = {"id", "source", "field_sources", "origin"}
_MERGEABLE = [f.name for f in fields(Item) if f.name not in _SKIP]


def merge_key(item: Item) -> str:
    text = unicodedata.normalize("NFKC", f"{item.name}|{item.unit}")
    key = _PUNCT_RE.sub("", text).lower()
    # Two counties' items of the same name and unit are two items (a city's roll-up); without
    # a county the key (and so every stored history) is as before.
    return f"{item.county}|{key}" if item.county else key


def _empty(value: object) -> bool:
    return value is None or value == "" or value is False or (isinstance(value, Mapping) and not value)


def merge_sources(batches: Sequence[tuple[str, Sequence[Item]]]) -> list[Item]:
    """`batches` is (source name, items) in config order. Items are not mutated."""
    if len(batches) == 1:
        return list(batches[0][1])  # nothing to merge; every field came from `item.source`
    merged: list[Item] = []
    by_key: dict[str, Item] = {}
    ids: set[str] = set()
    for source, items in batches:
        taken: set[str] = set()
        for item in items:
            key = merge_key(item)
            base = by_key.get(key)
            if base is not None and base.source != source and key not in taken:
                taken.add(key)
                _fill(base, item, source)
                continue
            # Dicts are copied too: filling from a later source must not change the
            # first source's own items (they are stored and reused next refresh).
            copy = Item(**{f.name: _copy(getattr(item, f.name)) for f in fields(Item)})  # type: ignore[arg-type]
            copy.field_sources = {name: source for name in _MERGEABLE if not _empty(getattr(item, name))}
            if copy.id in ids:
                copy.id = f"{source}:{copy.id}"
            ids.add(copy.id)
            by_key.setdefault(key, copy)
            taken.add(key)
            merged.append(copy)
    return merged


def _copy(value: object) -> object:
    return dict(value) if isinstance(value, Mapping) else value


def _fill(base: Item, other: Item, source: str) -> None:
    """Fill `base` (a merged copy, whose mappings are its own dicts) from `other`."""
    sources = dict(base.field_sources)
    for name in _MERGEABLE:
        mine, theirs = getattr(base, name), getattr(other, name)
        if _empty(mine) and not _empty(theirs):
            setattr(base, name, _copy(theirs))  # a copy: `other` is a source's own item
            sources[name] = source
        elif isinstance(mine, dict) and isinstance(theirs, Mapping):
            for k, v in theirs.items():
                if k not in mine:
                    mine[k] = v
    if base.ratio_computed and other.ratio is not None and not other.ratio_computed:
        base.ratio, base.ratio_computed = other.ratio, False
        sources["ratio"] = source
    base.field_sources = sources


def carry_over(old: Sequence[Item], new: Sequence[Item]) -> tuple[list[Item], int]:
    """`new`, where each item equal to the item `old` has under its id is that old object,
    and how many are not: a refresh keeps unchanged items as the same objects, so merging,
    evaluating, drawing and storing can skip them by identity."""
    previous = {item.id: item for item in old}
    items: list[Item] = []
    fresh = 0
    for item in new:
        prev = previous.get(item.id)
        if prev is not None and prev == item:
            items.append(prev)
        else:
            items.append(item)
            fresh += 1
    return items, fresh
