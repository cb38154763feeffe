"""Pinyin collation: Chinese text sorts as Excel and WPS sort it for these users
(安… before 北… before 公安局…), not by code point.

Like the Windows zh-CN pinyin collation behind Excel, a character has one reading
(pypinyin's first, the most common) and no phrase context, and Latin letters and
digits come before Chinese. So a sort key is one `str.translate` of the text (ASCII
letters folded to lower case), each Han character replaced by one private-use character whose order is its
pinyin order (with tone); that runs at C speed, and a long column pays for each
distinct string once (`collate_keys`). The order is a generated table
(`pinyin_order.py`, from pypinyin by tools/make_pinyin_order.py): importing pypinyin
itself would cost ~0.3 s and ~58 MB for the one reading a character we need.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from itertools import islice
from typing import Any

from dashboard.core.pinyin_order import PINYIN_ORDER

# Han characters become U+F0000 + their rank: above every other character.
_RANK_BASE = 0xF0000
# Between the pinyin-ordered text and the text itself (the tie-break for case): lowest.
_TIE = "\x00"
# Distinct strings whose other characters are added to the table before a long sort.
_LEARN_SAMPLE = 2000


@cache
def _table() -> dict[int, int]:
    """Code point -> its sort character: Han by (reading with tone number, code
    point), ASCII to itself but letters to lower case (so `translate` rarely misses:
    a miss leaves the character as it is, at the cost of an exception). Built once, a few ms."""
    table = {ord(char): _RANK_BASE + rank for rank, char in enumerate(PINYIN_ORDER)}
    table.update((code, code) for code in range(128))
    table.update((code, code + 32) for code in range(ord("A"), ord("Z") + 1))
    return table


def _learn(text: str, table: dict[int, int]) -> None:
    """The other characters of `text` (e.g. full-width brackets) map to themselves."""
    for char in set(text):
        table.setdefault(ord(char), ord(char))


def collate_key(text: str) -> str:
    """The sort key of `text`: pinyin order for Han characters, ASCII letters in lower
    case, then the text itself so that keys differing only in case stay apart."""
    table = _table()
    _learn(text, table)
    return text.translate(table) + _TIE + text


def collate_keys(keys: Sequence[Any]) -> Sequence[Any]:
    """`keys` with every string replaced by its `collate_key`, computed once per
    distinct string; keys that are not all strings (numbers, tuples) are returned
    as they are."""
    if not keys or type(keys[0]) is not str or not all(type(k) is str for k in keys):
        return keys
    table = _table()
    distinct = set(keys)
    _learn("".join(islice(distinct, _LEARN_SAMPLE)), table)
    memo = {s: s.translate(table) + _TIE + s for s in distinct}
    return list(map(memo.__getitem__, keys))
