"""GB 3838-2002 classes, checked against the standard's own table (copied from docs/DOMAIN.md, not from the code)."""
from __future__ import annotations

import pytest

from domain.water_quality import WaterClass, item_class, sample_class

# item (mg/L)            I      II     III    IV     V
TABLE = """
do_mg_l       >=        7.5    6      5      3      2
codmn_mg_l    <=        2      4      6      10     15
cod_mg_l      <=        15     15     20     30     40
bod5_mg_l     <=        3      3      4      6      10
nh3n_mg_l     <=        0.15   0.5    1.0    1.5    2.0
tp_mg_l       <=        0.02   0.1    0.2    0.3    0.4
"""
TP_LAKES = (0.01, 0.025, 0.05, 0.1, 0.2)
STEP = 1e-6  # "just past" a limit


def rows() -> list[tuple[str, str, tuple[float, ...]]]:
    out = []
    for line in TABLE.strip().splitlines():
        item, sense, *limits = line.split()
        out.append((item, sense, tuple(float(x) for x in limits)))
    return out


def cases(waterbody: str):
    """(item, waterbody, sense, grade, limit) for every limit of every item."""
    for item, sense, limits in rows():
        if item == "tp_mg_l" and waterbody != "river":
            limits = TP_LAKES
        for grade, limit in enumerate(limits, start=1):
            yield pytest.param(item, waterbody, sense, grade, limit, limits, id=f"{item}-{waterbody}-{grade}")


ALL_LIMITS = [*cases("river"), *(c for c in cases("lake") if c.values[0] == "tp_mg_l"),
              *(c for c in cases("reservoir") if c.values[0] == "tp_mg_l")]


@pytest.mark.parametrize("item, waterbody, sense, grade, limit, limits", ALL_LIMITS)
def test_a_value_on_a_limit_belongs_to_the_best_class_with_that_limit(item, waterbody, sense, grade, limit, limits):
    assert item_class(item, limit, waterbody) == limits.index(limit) + 1


@pytest.mark.parametrize("item, waterbody, sense, grade, limit, limits", ALL_LIMITS)
def test_a_value_just_past_a_limit_goes_to_the_next_class_with_another_limit(item, waterbody, sense, grade, limit,
                                                                           limits):
    past = limit - STEP if sense == ">=" else limit + STEP
    last_with_this_limit = len(limits) - limits[::-1].index(limit)
    assert item_class(item, past, waterbody) == last_with_this_limit + 1


def test_shared_limits_of_classes_i_and_ii_give_class_i():
    assert item_class("cod_mg_l", 15) == 1 and item_class("cod_mg_l", 15.1) == 3
    assert item_class("bod5_mg_l", 3) == 1 and item_class("bod5_mg_l", 3.5) == 3


@pytest.mark.parametrize("item, value, grade", [
    ("do_mg_l", 9.0, 1), ("do_mg_l", 5.5, 3), ("do_mg_l", 1.99, 6), ("do_mg_l", 0, 6),
    ("codmn_mg_l", 0, 1), ("codmn_mg_l", 15.01, 6), ("nh3n_mg_l", 1.2, 4), ("nh3n_mg_l", 2.01, 6),
    ("nh3n_mg_l", 8.6, 6), ("tp_mg_l", 0.41, 6),
])
def test_values_between_limits(item, value, grade):
    assert item_class(item, value) == grade


def test_float_noise_on_a_limit_stays_on_it():
    assert item_class("tp_mg_l", 0.1 + 0.2) == 4


def test_lakes_and_reservoirs_grade_tp_stricter_than_rivers():
    assert item_class("tp_mg_l", 0.1, "river") == 2
    assert item_class("tp_mg_l", 0.1, "lake") == 4
    assert item_class("tp_mg_l", 0.1, "reservoir") == 4
    assert item_class("tp_mg_l", 0.3, "lake") == 6
    assert item_class("nh3n_mg_l", 1.0, "lake") == item_class("nh3n_mg_l", 1.0, "river") == 3


@pytest.mark.parametrize("ph, grade", [(6.0, 1), (7.2, 1), (9.0, 1), (5.99, 6), (9.01, 6), (0, 6), (14, 6)])
def test_ph_inside_6_to_9_never_lowers_the_class_and_outside_is_worse_than_v(ph, grade):
    assert item_class("ph", ph) == grade


def test_do_saturation_of_90_percent_meets_class_i():
    assert item_class("do_mg_l", 6.8) == 2
    assert item_class("do_mg_l", 6.8, do_saturation=0.9) == 1
    assert item_class("do_mg_l", 6.8, do_saturation=1.3) == 1
    assert item_class("do_mg_l", 6.8, do_saturation=0.89) == 2
    assert item_class("nh3n_mg_l", 0.6, do_saturation=0.95) == 3  # saturation concerns DO only


def test_sample_class_is_the_worst_item_and_names_the_items_that_decided_it():
    got = sample_class({"do_mg_l": 6.5, "codmn_mg_l": 5.0, "nh3n_mg_l": 1.2, "tp_mg_l": 0.25, "ph": 7.4})
    assert got == WaterClass(4, ("nh3n_mg_l", "tp_mg_l"),
                             {"do_mg_l": 2, "codmn_mg_l": 3, "nh3n_mg_l": 4, "tp_mg_l": 4, "ph": 1})
    assert got.label == "Ⅳ类"


@pytest.mark.parametrize("readings, label", [
    ({"do_mg_l": 8.0, "codmn_mg_l": 1.5, "nh3n_mg_l": 0.1, "tp_mg_l": 0.02}, "Ⅰ类"),
    ({"do_mg_l": 6.0, "codmn_mg_l": 4, "nh3n_mg_l": 0.5, "tp_mg_l": 0.1}, "Ⅱ类"),
    ({"do_mg_l": 5.0, "codmn_mg_l": 6, "nh3n_mg_l": 1.0, "tp_mg_l": 0.2}, "Ⅲ类"),
    ({"do_mg_l": 3.0, "codmn_mg_l": 10, "nh3n_mg_l": 1.5, "tp_mg_l": 0.3}, "Ⅳ类"),
    ({"do_mg_l": 2.0, "codmn_mg_l": 15, "nh3n_mg_l": 2.0, "tp_mg_l": 0.4}, "Ⅴ类"),
    ({"do_mg_l": 6.0, "codmn_mg_l": 4, "nh3n_mg_l": 3.1, "tp_mg_l": 0.1}, "劣Ⅴ类"),
])
def test_labels(readings, label):
    assert sample_class(readings).label == label


def test_ph_out_of_range_makes_the_sample_worse_than_v():
    got = sample_class({"do_mg_l": 8.0, "nh3n_mg_l": 0.1, "ph": 9.5})
    assert (got.grade, got.label, got.deciding) == (6, "劣Ⅴ类", ("ph",))


def test_sample_tp_follows_the_waterbody():
    readings = {"do_mg_l": 7.0, "codmn_mg_l": 3.0, "nh3n_mg_l": 0.3, "tp_mg_l": 0.08}
    assert sample_class(readings, "river").label == "Ⅱ类"
    lake = sample_class(readings, "lake")
    assert (lake.label, lake.deciding) == ("Ⅳ类", ("tp_mg_l",))


def test_sample_counts_only_measured_items():
    got = sample_class({"nh3n_mg_l": 0.4, "tp_mg_l": None, "water_level_m": 2.1, "turbidity_ntu": 40})
    assert (got.grade, got.by_item) == (2, {"nh3n_mg_l": 2})


def test_sample_do_saturation():
    assert sample_class({"do_mg_l": 6.8, "nh3n_mg_l": 0.1}, do_saturation=0.92).label == "Ⅰ类"
    assert sample_class({"nh3n_mg_l": 0.1}, do_saturation=0.92).by_item == {"do_mg_l": 1, "nh3n_mg_l": 1}
    assert sample_class({"nh3n_mg_l": 0.1}, do_saturation=0.5).by_item == {"nh3n_mg_l": 1}


@pytest.mark.parametrize("call, message", [
    (lambda: item_class("nh3n_mg_l", -0.1), "nh3n_mg_l must be a finite number ≥ 0, got -0.1"),
    (lambda: item_class("do_mg_l", float("nan")), "do_mg_l must be a finite number ≥ 0, got nan"),
    (lambda: item_class("do_mg_l", "7"), "do_mg_l must be a number, got '7'"),
    (lambda: item_class("ph", 15), "ph must be within 0–14, got 15.0"),
    (lambda: item_class("do_mg_l", 5, do_saturation=-0.2), "do_saturation must be a finite number ≥ 0, got -0.2"),
    (lambda: item_class("cod", 5), "unknown GB 3838 item 'cod'; items are do_mg_l, codmn_mg_l, cod_mg_l, "
                                   "bod5_mg_l, nh3n_mg_l, tp_mg_l, ph"),
    (lambda: item_class("tp_mg_l", 0.1, "sea"), "unknown waterbody 'sea'; use one of river, lake, reservoir"),
    (lambda: sample_class({"do_mg_l": 6, "tp_mg_l": -1}), "tp_mg_l must be a finite number ≥ 0, got -1"),
    (lambda: sample_class({"water_level_m": 2.0}), "no GB 3838 item among the readings; items are do_mg_l, "
                                                   "codmn_mg_l, cod_mg_l, bod5_mg_l, nh3n_mg_l, tp_mg_l, ph"),
    (lambda: sample_class({"ph": 7}, "pond"), "unknown waterbody 'pond'; use one of river, lake, reservoir"),
])
def test_bad_input_is_a_value_error_with_a_message(call, message):
    with pytest.raises(ValueError) as caught:
        call()
    assert str(caught.value) == message
