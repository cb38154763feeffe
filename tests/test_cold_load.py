"""The large case's first write and load (issue 17): bulk store writes keep their meaning."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

from dashboard.core.items import Item
from dashboard.store import _BULK_ROWS, ITEM_ROW_TAG, Store, encode_item, history_key, item_to_dict

AS_OF = date(2024, 9, 30)


def item(n: int, ratio: float) -> Item:
    return Item(id=str(n), name=f"项目{n}", unit=f"单位{n % 7}", ratio=ratio, source="s")


def points_at(store: Store, day: date) -> int:
    return int(
        store.conn.execute(
            "SELECT COUNT(*) FROM item_history WHERE as_of = ?", (day.isoformat(),)
        ).fetchone()[0]
    )


def test_a_bulk_record_replaces_the_points_of_its_date_and_keeps_the_others(tmp_path: Path) -> None:
    n = _BULK_ROWS + 500  # above the bulk line: the keys to replace are found by one scan
    store = Store(tmp_path / "s.sqlite3")
    items = [item(i, 0.5) for i in range(n)]
    # Two points imported earlier (history only, as `dashboard import` writes them): one at
    # the same as-of date, to be replaced, and one at an earlier date, to be kept.
    store.record_points(items[:1], AS_OF)
    store.record_points(items[1:2], date(2024, 8, 31))
    assert store.record_history(items, datetime(2024, 9, 30, 9), AS_OF) == n
    assert points_at(store, AS_OF) == n  # one point per item and date, not n + 1
    assert points_at(store, date(2024, 8, 31)) == 1
    assert [p.ratio for p in store.history(history_key(items[0]))] == [0.5]
    # A second bulk record of the same date (every figure changed) replaces them all again.
    again = [item(i, 0.25) for i in range(n)]
    assert store.record_history(again, datetime(2024, 9, 30, 10), AS_OF) == n
    assert points_at(store, AS_OF) == n
    assert [p.ratio for p in store.history(history_key(again[7]))] == [0.25]
    # The page cache is back to its small size after the bulk write.
    assert store.conn.execute("PRAGMA cache_size").fetchone()[0] == -512
    store.close()


def test_a_bulk_source_write_round_trips_and_a_later_one_writes_only_the_changed(tmp_path: Path) -> None:
    n = _BULK_ROWS * 2
    store = Store(tmp_path / "s.sqlite3")
    items = [item(i, i / n) for i in range(n)]
    save = dict(spec_key="k", ok=True, error="", last_attempt=None, last_success=None)
    store.save_source("通报", items=items, **save)  # type: ignore[arg-type]
    items[3] = item(3, 0.999)
    store.save_source("通报", items=items, **save)  # type: ignore[arg-type]
    store.close()
    restored = Store(tmp_path / "s.sqlite3").load_sources()["通报"].items
    assert len(restored) == n
    assert restored == items
    assert restored[3].ratio == 0.999


def test_items_are_stored_as_positional_rows_and_old_dict_rows_still_restore(tmp_path: Path) -> None:
    rich = Item(
        id="45",
        name="重点治理农村道路交通事故多发的临水临崖、平交路口重大风险隐患(处)",
        unit="公安局交警大队",
        target_text="100",
        target=100.0,
        ratio=0.32,
        as_of=AS_OF,
        monthly_updates={3: 1, 9: 0},
        extra={"备注": "督办"},
        satisfaction=0.0,
        origin="通报.csv:46",
    )
    plain = item(1, 1.0)
    store = Store(tmp_path / "s.sqlite3")
    save = dict(spec_key="k", ok=True, error="", last_attempt=None, last_success=None)
    store.save_source("通报", items=[rich, plain], **save)  # type: ignore[arg-type]
    rows = [r[0] for r in store.conn.execute("SELECT data FROM source_items ORDER BY pos")]
    assert all(json.loads(r)[0] == ITEM_ROW_TAG for r in rows)
    # A row written by the version before (a dict), and one of an unknown format.
    store.conn.execute("INSERT INTO source_items VALUES ('通报', 2, ?)", (json.dumps(item_to_dict(plain)),))
    store.conn.execute("INSERT INTO source_items VALUES ('通报', 3, ?)", ('["z9", "1", "x"]',))
    store.close()
    again = Store(tmp_path / "s.sqlite3")
    restored = again.load_sources()["通报"]
    assert restored.items == [rich, plain, plain]
    assert restored.items[0].as_of == AS_OF and restored.items[0].monthly_updates == {3: 1, 9: 0}
    assert restored.items[0].satisfaction == 0.0
    assert any("第 4 项" in w.message for w in restored.warnings)
    assert encode_item(plain).startswith(f'["{ITEM_ROW_TAG}","1","项目1"')


def test_a_stored_row_that_a_type_check_passes_but_is_not_an_item_is_still_refused(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    save = dict(spec_key="k", ok=True, error="", last_attempt=None, last_success=None)
    good = [item(i, 0.5) for i in range(3)]
    store.save_source("通报", items=good, **save)  # type: ignore[arg-type]
    row = json.loads(encode_item(good[1]))
    infinite = row.copy()
    infinite[1 + 9] = 1e999  # ratio: a float to the type check, not a finite number (json reads inf)
    nameless = row.copy()
    nameless[1], nameless[2] = "", ""  # neither id nor name
    for pos, bad in ((1, infinite), (2, nameless)):
        text = json.dumps(bad, ensure_ascii=False).replace("Infinity", "1e999")
        store.conn.execute("UPDATE source_items SET data = ? WHERE pos = ?", (text, pos))
    store.close()
    restored = Store(tmp_path / "s.sqlite3").load_sources()["通报"]
    assert restored.items == [good[0]]
    assert sum("项目无法解码" in w.message for w in restored.warnings) == 2
    # Restored plain items share the one empty mapping, as loaded ones do (memory at 100,000).
    assert restored.items[0].extra is restored.items[0].disclosures
