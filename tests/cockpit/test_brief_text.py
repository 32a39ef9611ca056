"""The brief's written summary (cockpit/brief_text.py): exact sentences, every figure from the input, and
graceful wording when there is nothing to say."""
import re

import pytest

from cockpit import brief_text as bt
from warehouse.brief_queries import Numbers, Window

LABEL = "2026年3月10日（星期二）"


def numbers(**values) -> Numbers:
    return Numbers(Window(0, 1), **values)


NOW = numbers(received=1234, completed=1100, due=200, due_on_time=180, rated=40, satisfied=34, overdue_open=12,
              incidents={"I": 1, "III": 2, "IV": 5})
BEFORE = numbers(received=1000, completed=900, due=100, due_on_time=92, rated=40, satisfied=34, overdue_open=8,
                 incidents={"IV": 5})
CATEGORIES = [{"name": "城市管理", "value": 500, "share": 500 / 1234}, {"name": "交通出行", "value": 300, "share": 300 / 1234},
              {"name": "水电气", "value": 100, "share": 100 / 1234}, {"name": "其他", "value": 50, "share": 50 / 1234}]
DISTRICTS = [{"name": "白云区", "value": 400, "share": 0.3}, {"name": "天河区", "value": 350, "share": 0.25}]
RANKING = [{"name": "越秀区", "rank": 1, "on_time": 0.98, "satisfaction": 0.8},
           {"name": "天河区", "rank": 2, "on_time": 0.9, "satisfaction": 0.95},
           {"name": "白云区", "rank": 3, "on_time": 0.85, "satisfaction": None},
           {"name": "番禺区", "rank": None, "on_time": None, "satisfaction": 0.5}]
MAJOR = [{"district": "天河区", "type": "火灾", "grade": "Ⅰ级 特别重大", "status": "现场处置", "open": True}]


def test_a_full_summary_reads_the_numbers():
    assert bt.summary(LABEL, NOW, BEFORE, "前一日", CATEGORIES, DISTRICTS, RANKING, MAJOR) == [
        "2026年3月10日（星期二），全市受理 12345 热线工单 1,234 件、办结 1,100 件，受理量较前一日上升 23.4%。",
        "按时办结率 90.0%（到期 200 件，按时办结 180 件），较前一日降低 2.0 个百分点；"
        "满意率 85.0%（有效回访 40 件），与前一日持平；统计期末超期在办工单 12 件。",
        "诉求最集中的类别是城市管理（500 件，占 40.5%）、交通出行（300 件，占 24.3%）和水电气（100 件，占 8.1%）；"
        "受理量最多的区是白云区（400 件）和天河区（350 件）。",
        "各区中，按时办结率以越秀区最高（98.0%），白云区最低（85.0%）；满意率以天河区最高（95.0%），越秀区最低（80.0%）。",
        "统计期内新发突发事件 8 起（Ⅰ级 1 起、Ⅲ级 2 起、Ⅳ级 5 起），较前一日增加 3 起；"
        "期内在处置或新发的重大及以上事件：天河区火灾（Ⅰ级 特别重大，现场处置）。",
    ]


def figures(text: str) -> set[str]:
    return set(re.findall(r"\d[\d,]*(?:\.\d+)?", text))


def test_every_figure_in_the_summary_comes_from_the_input():
    text = "".join(bt.summary(LABEL, NOW, BEFORE, "前一日", CATEGORIES, DISTRICTS, RANKING, MAJOR))
    allowed = {"12345", "2026", "3", "10"}  # the hotline's name and the label
    for n in (NOW, BEFORE):
        allowed |= {f"{v:,}" for v in (n.received, n.completed, n.due, n.due_on_time, n.rated, n.overdue_open,
                                       n.incidents_total, *n.incidents.values())}
    allowed |= {f"{r * 100:.1f}" for r in (NOW.on_time_rate, NOW.satisfaction_rate)}
    allowed |= {f"{(NOW.received - BEFORE.received) / BEFORE.received * 100:.1f}",
                f"{abs(NOW.on_time_rate - BEFORE.on_time_rate) * 100:.1f}",
                f"{NOW.incidents_total - BEFORE.incidents_total}"}
    for row in CATEGORIES + DISTRICTS:
        allowed |= {f"{row['value']:,}", f"{row['share'] * 100:.1f}"}
    allowed |= {f"{r[k] * 100:.1f}" for r in RANKING for k in ("on_time", "satisfaction") if r[k] is not None}
    assert figures(text) - allowed == set()


def test_an_empty_period_says_there_is_no_data_without_dividing_by_zero():
    sentences = bt.summary(LABEL, numbers(), numbers(), "前一日", [], [], [], [])
    assert sentences == [
        "2026年3月10日（星期二），全市暂无 12345 热线工单受理和办结数据。",
        "按时办结率暂无数据（统计期内无到期工单）；满意率暂无数据（统计期内无有效回访）；统计期末无超期在办工单。",
        "统计期内无新发突发事件记录；期内无在处置或新发的重大及以上（Ⅰ、Ⅱ级）事件。",
    ]
    assert not any(word in "".join(sentences) for word in ("None", "nan", "inf"))


def test_an_empty_period_after_a_busy_one_names_the_earlier_count():
    assert bt.volume(LABEL, numbers(), numbers(received=30), "前一日") == (
        "2026年3月10日（星期二），全市暂无 12345 热线工单受理和办结数据（前一日受理 30 件）。")


def test_without_a_previous_period_nothing_is_compared():
    sentences = bt.summary(LABEL, NOW, None, "前一日", [], [], [], [])
    assert "前一日" not in "".join(sentences)
    assert sentences[0] == "2026年3月10日（星期二），全市受理 12345 热线工单 1,234 件、办结 1,100 件。"


@pytest.mark.parametrize("current, previous, unit, text", [
    (120, 100, "", "较前一日上升 20.0%"),
    (75, 100, "", "较前一日下降 25.0%"),
    (5, 5, "", "与前一日持平"),
    (5, 0, "", "前一日为 0"),
    (0, 0, "", "与前一日持平"),
    (3, 1, "起", "较前一日增加 2 起"),
    (0, 1, "起", "较前一日减少 1 起"),
    (1, None, "", ""),
])
def test_count_change(current, previous, unit, text):
    assert bt.count_change(current, previous, "前一日", unit) == text


@pytest.mark.parametrize("current, previous, text", [
    (0.9, 0.8, "较上周提高 10.0 个百分点"),
    (0.8, 0.9, "较上周降低 10.0 个百分点"),
    (0.9, 0.90004, "与上周持平"),
    (None, 0.9, ""),
    (0.9, None, ""),
])
def test_rate_change(current, previous, text):
    assert bt.rate_change(current, previous, "上周") == text


def test_ranking_with_equal_rates_says_so_and_one_district_is_alone():
    equal = [{"name": "越秀区", "rank": 1, "on_time": 1.0, "satisfaction": None},
             {"name": "天河区", "rank": 2, "on_time": 1.0, "satisfaction": None}]
    assert bt.ranking(equal) == "各区中，有按时办结率数据的 2 个区均为 100.0%。"
    assert bt.ranking(equal[:1]) == "各区中，仅越秀区有按时办结率数据（100.0%）。"
    assert bt.ranking([{"name": "番禺区", "rank": None, "on_time": None, "satisfaction": 0.5}]) == ""


def test_ties_name_the_first_best_and_the_last_worst():
    tied = [{"name": n, "rank": i, "on_time": r, "satisfaction": None}
            for i, (n, r) in enumerate([("甲区", 0.9), ("乙区", 0.9), ("丙区", 0.8), ("丁区", 0.8)], 1)]
    assert bt.ranking(tied) == "各区中，按时办结率以甲区最高（90.0%），丁区最低（80.0%）。"


def test_more_than_three_major_incidents_are_counted():
    major = [{"district": f"{d}区", "type": "火灾", "grade": "Ⅱ级 重大", "status": "已结案", "open": False}
             for d in "甲乙丙丁"]
    text = bt.incidents(numbers(), numbers(), "前一日", major)
    assert text == ("统计期内无新发突发事件记录；期内在处置或新发的重大及以上事件："
                    "甲区火灾（Ⅱ级 重大，已结案）、乙区火灾（Ⅱ级 重大，已结案）和丙区火灾（Ⅱ级 重大，已结案）等 4 起。")


def test_ungraded_incidents_are_named_as_such():
    text = bt.incidents(numbers(incidents={"": 2, "II": 1}), None, "前一日", [])
    assert text.startswith("统计期内新发突发事件 3 起（Ⅱ级 1 起、未定级 2 起）；")


def test_the_summary_has_three_to_five_sentences():
    assert 3 <= len(bt.summary(LABEL, NOW, BEFORE, "前一日", CATEGORIES, DISTRICTS, RANKING, MAJOR)) <= 6
    assert 3 <= len(bt.summary(LABEL, numbers(), None, "前一日", [], [], [], [])) <= 6
