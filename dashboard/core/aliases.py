"""Lead-unit (牵头单位) names: normalisation, the `[units]` alias table, and finding
names that look like variants of one another (`人社局` / `人力资源和社会保障局` /
`湘乡市人力资源和社会保障局`). Pure: no I/O.

Two names are proposed as one unit only when, after normalising (NFKC, no spaces or
punctuation), one of these holds for the pair:

- equal after removing a place prefix (`湘乡市`, `湖南省湘潭市`: 2–4 Han characters
  ending in 省/市/州/县/区) from either, or after removing a trailing `局`;
- one is the other with a parent unit in front (`交警大队` / `公安局交警大队`): the
  shorter, of at least 3 characters, ends the longer and what is left ends in 局/委/办;
- one abbreviates the other (`人社局` / `人力资源和社会保障局`, `卫健局` / `卫生健康局`):
  same first and last character, and the short one's characters appear in the long
  one in order.

Being pairwise, a place prefix is stripped only when the rest is another unit's name,
so `城市管理局` never becomes `管理局`.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from dashboard.core.items import Item

_NOISE_RE = re.compile(r"[\s\"'“”‘’《》「」()（）【】\[\],，、。:：;；·.\-_/]+")
_PLACE_RE = re.compile(r"^[\u4e00-\u9fff]{2,4}?(?:省|市|州|县|区)")
_PARENT_END = ("局", "委", "办", "厅", "部")


def unit_key(name: str) -> str:
    """The name compared loosely: NFKC (full-width → half-width), no spaces or punctuation."""
    return _NOISE_RE.sub("", unicodedata.normalize("NFKC", name or "")).lower()


def _place_stripped(key: str) -> list[str]:
    """`key` without each place prefix the pattern finds (shortest first), itself excluded."""
    out: list[str] = []
    rest = key
    for _ in range(3):
        m = _PLACE_RE.match(rest)
        if m is None or len(rest) - m.end() < 2:
            break
        rest = rest[m.end() :]
        out.append(rest)
    return out


_NUMERALS = frozenset("0123456789一二三四五六七八九十百千零〇两")


def _left_out(short: str, long: str) -> str | None:
    """The characters of `long` not used to spell `short` in order (None: it cannot be)."""
    rest: list[str] = []
    i = 0
    for ch in long:
        if i < len(short) and ch == short[i]:
            i += 1
        else:
            rest.append(ch)
    return "".join(rest) if i == len(short) else None


def _abbreviates(short: str, long: str) -> bool:
    if not (2 <= len(short) < len(long) and short[0] == long[0] and short[-1] == long[-1]):
        return False
    rest = _left_out(short, long)
    # `一中` / `十一中`, `3号站` / `13号站`: numbers tell units apart, they are never abbreviated.
    return rest is not None and not _NUMERALS.intersection(rest)


def _forms(key: str) -> set[str]:
    forms = {key, *_place_stripped(key)}
    forms |= {f[:-1] for f in forms if f.endswith("局") and len(f) > 2}
    return forms


def _plain_forms(key: str) -> set[str]:
    """`key` and its place-stripped forms (with their `局`), for the suffix and abbreviation tests."""
    return {key, *_place_stripped(key)}


def likely_same(a: str, b: str) -> bool:
    """Whether two unit names look like one unit written two ways (see the module doc)."""
    ka, kb = unit_key(a), unit_key(b)
    if not ka or not kb:
        return False
    return _same(_Name(ka), _Name(kb))


class _Name:
    """A name's key and forms, computed once for the pairwise comparison."""

    __slots__ = ("forms", "key", "plain")

    def __init__(self, key: str) -> None:
        self.key = key
        self.forms = _forms(key)
        self.plain = _plain_forms(key)


def _same(a: _Name, b: _Name) -> bool:
    if a.key == b.key or not a.forms.isdisjoint(b.forms):
        return True
    for x in a.plain:
        for y in b.plain:
            short, long = (x, y) if len(x) <= len(y) else (y, x)
            if len(short) >= 3 and long.endswith(short) and long[: -len(short)].endswith(_PARENT_END):
                return True
            if _abbreviates(short, long):
                return True
    return False


@dataclass(slots=True)
class VariantGroup:
    """Unit names that look like one unit: `names` with their item counts, the suggested
    canonical name, and the lines to paste into `[units.aliases]`."""

    canonical: str
    names: dict[str, int] = field(default_factory=dict)  # name → items, most first

    @property
    def variants(self) -> list[str]:
        return [n for n in self.names if n != self.canonical]

    @property
    def items(self) -> int:
        return sum(self.names.values())

    def alias_lines(self) -> list[str]:
        """`"人力资源和社会保障局" = "人社局"`: one TOML line per variant."""
        return [f"{_toml_str(v)} = {_toml_str(self.canonical)}" for v in self.variants]


def _toml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _canonical(counts: Mapping[str, int]) -> str:
    """The name most items use; on a tie the longest without its place prefix (the
    official name), then the first in pinyin-free code point order (stable)."""

    def rank(name: str) -> tuple[int, int, int, str]:
        key = unit_key(name)
        stripped = _place_stripped(key)
        return (-counts[name], 0 if not stripped else 1, -len(stripped[-1] if stripped else key), name)

    return min(counts, key=rank)


def find_variants(units: Iterable[str]) -> list[VariantGroup]:
    """Groups of distinct unit names (as written, one entry per item) that look like one
    unit, largest group first. Names equal after `unit_key` are one name already."""
    counts = Counter(u for u in units if u and u.strip())
    names = sorted(n for n in counts if unit_key(n))
    parsed = {n: _Name(unit_key(n)) for n in names}
    parent = {n: n for n in names}

    def root(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if root(a) != root(b) and _same(parsed[a], parsed[b]):
                parent[root(b)] = root(a)
    groups: dict[str, dict[str, int]] = {}
    for n in names:
        groups.setdefault(root(n), {})[n] = counts[n]
    out = []
    for members in groups.values():
        if len(members) < 2:
            continue
        ordered = dict(sorted(members.items(), key=lambda kv: (-kv[1], kv[0])))
        out.append(VariantGroup(_canonical(ordered), ordered))
    return sorted(out, key=lambda g: (-g.items, g.canonical))


class AliasConflict(ValueError):
    """One name mapped to two units; `key` names the config key that says so second."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class UnitAliases:
    """Variant → canonical unit name, looked up by `unit_key` (so `人社局 ` and `人社局` agree)."""

    mapping: Mapping[str, str] = field(default_factory=dict)  # unit_key(variant) → canonical

    def __bool__(self) -> bool:
        return bool(self.mapping)

    def canonical(self, name: str) -> str:
        """The unit `name` stands for (itself when not in the table)."""
        if not self.mapping or not name:
            return name
        return self.mapping.get(unit_key(name), name)


def build_aliases(pairs: Iterable[tuple[str, str, str]]) -> UnitAliases:
    """From (config key, variant, canonical) triples. A name mapped to two different
    units, or a canonical name that is itself a variant of another, is an AliasConflict."""
    mapping: dict[str, str] = {}
    said: dict[str, str] = {}  # unit_key(variant) → the key that mapped it
    for key, variant, canonical in pairs:
        vk, ck = unit_key(variant), unit_key(canonical)
        if not vk or not ck:
            raise AliasConflict(key, "单位名称不能为空")
        if vk == ck:
            continue  # a name mapped to itself says nothing
        before = mapping.get(vk)
        if before is not None and unit_key(before) != ck:
            raise AliasConflict(
                key,
                f"「{variant}」同时对应两个单位：「{before}」（{said[vk]}）与「{canonical}」",
            )
        mapping[vk] = canonical
        said[vk] = key
    for vk, canonical in mapping.items():
        ck = unit_key(canonical)
        if ck in mapping and unit_key(mapping[ck]) != ck:
            raise AliasConflict(
                said[vk],
                f"「{canonical}」是标准名称，又被写成「{mapping[ck]}」的别名（{said[ck]}）：请直接写最终的单位",
            )
    return UnitAliases(mapping)


ORIGINAL_UNIT = "牵头单位（原文）"  # the `extra` field an aliased item keeps its written unit in


def apply_unit_aliases(items: Sequence[Item], aliases: UnitAliases) -> Sequence[Item]:
    """`items` with each lead unit replaced by its canonical name. Items whose unit does
    not change are the same objects (identity tells the unchanged, see merge.carry_over);
    the others are copies that keep the name as written in `extra`."""
    if not aliases:
        return items
    out: list[Item] = []
    for item in items:
        canonical = aliases.canonical(item.unit)
        if canonical == item.unit:
            out.append(item)
            continue
        copy = replace(item, unit=canonical, extra={**item.extra, ORIGINAL_UNIT: item.unit})
        out.append(copy)
    return out
