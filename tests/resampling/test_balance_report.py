"""BalanceReport and ClassBalanceStats: the per-class accounting the Balancer hands back."""

from __future__ import annotations

import json

from nlp_balance.resampling import BalanceReport, ClassBalanceStats
from nlp_balance.resampling.balance_report import jsonable


def test_after_counts_originals_new_rows_and_duplicates():
    stats = ClassBalanceStats("spam", before=10, target=30, synthetic=15, duplicated=5, failed_attempts=7)
    assert stats.after == 30


def test_to_dict_is_json_with_after_per_class():
    def by_half(y):
        return {}

    report = BalanceReport(
        augmenter={"name": "eda"},
        sampling_strategy=by_half,
        seed=3,
        classes=[ClassBalanceStats("ham", 40, 40), ClassBalanceStats("spam", 5, 40, synthetic=30, duplicated=5)],
        rounds=2,
    )
    data = json.loads(json.dumps(report.to_dict()))
    assert data["sampling_strategy"] == "by_half" and data["rounds"] == 2 and data["seed"] == 3
    assert data["classes"][1] == {
        "label": "spam", "before": 5, "target": 40, "synthetic": 30, "duplicated": 5,
        "failed_attempts": 0, "duplicates_dropped": 0, "after": 40,
    }


def test_jsonable_names_callables_and_stringifies_dict_keys():
    assert jsonable({0: 5, "spam": 9}) == {"0": 5, "spam": 9}
    assert jsonable("auto") == "auto" and jsonable(0.5) == 0.5
    assert jsonable(len) == "len"
