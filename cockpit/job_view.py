"""Which jobs are in trouble, from their heartbeats (warehouse.queries.job_status): for /healthz, the wall's
header and the duty screen. ``load`` runs the query; the rest are pure functions of its result."""
from __future__ import annotations

import pandas as pd

from domain.times import clock, epoch
from warehouse import Warehouse
from warehouse import queries as q

JOB_ZH = {"alerts": "预警计算", "ingest": "数据接入", "simulator": "模拟数据", "broker": "消息总线", "replay": "数据回放"}
SILENT_AFTER = 60.0  # seconds without a heartbeat (jobs.status beats every 15 s) before a job counts as silent
LOOKBACK = 24 * 3600  # heartbeats looked at: a job that died a day ago and never came back still shows


def load(wh: Warehouse, now: float) -> pd.DataFrame:
    return q.run(wh, q.job_status(int(now) - LOOKBACK))


def problems(status: pd.DataFrame, now: float) -> list[dict]:
    """Per job name, what is wrong: ``failing`` (an instance reports failures: since the earliest of them,
    the most attempts, the last error's class) or ``silent`` (no instance has beaten for SILENT_AFTER and the
    newest did not stop cleanly: since its last beat). Jobs with a healthy instance and none failing are
    left out. Keys: job, kind, since (epoch s), attempts, error."""
    found = []
    for job, rows in status.groupby("job", sort=True):
        seen = rows["seen"].map(epoch)
        fresh = rows[seen >= now - SILENT_AFTER]
        failing = fresh[fresh["state"] == "failing"]
        if len(failing):
            last = failing.loc[failing["seen"].map(epoch).idxmax()]
            found.append({"job": str(job), "kind": "failing", "since": min(map(epoch, failing["since"])),
                          "attempts": int(failing["attempts"].max()), "error": str(last["error"])})
        elif not (fresh["state"] == "ok").any():
            newest = rows.loc[seen.idxmax()]
            if newest["state"] != "stopped":
                found.append({"job": str(job), "kind": "silent", "since": epoch(newest["seen"]), "attempts": 0,
                              "error": ""})
    return found


def describe(problem: dict, timezone: str, now: float) -> str:
    """One line for a screen, e.g. 预警计算中断 12:03 起 (or 12-06 12:03 起 when not today)."""
    name = JOB_ZH.get(problem["job"], problem["job"])
    what = "中断" if problem["kind"] == "failing" else "无响应"
    return f"{name}{what} {clock(problem['since'], timezone, now)} 起"


def detail(problem: dict) -> str:
    """What the duty officer needs besides the line: attempts and the error's class."""
    if problem["kind"] == "silent":
        return "该任务已停止上报心跳：进程可能已退出，请检查服务器上的任务进程"
    return f"连续失败 {problem['attempts']} 次（{problem['error']}），系统正在自动重试；期间可能漏报预警" \
        if problem["job"] == "alerts" else f"连续失败 {problem['attempts']} 次（{problem['error']}），系统正在自动重试"

