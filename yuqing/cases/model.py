"""The words of a case, the same in the CLI, the web and emails, and which step may follow which.

    待研判 -> 已研判 (verdict, level, note) -> 处置中 (unit + deadlines) -> 已回应 (link + note) -> 办结
    any state before 办结 -> 不予处置 (a reason)

A case may be assigned before it is assessed (待研判 -> 处置中); assessing it later records the
verdict without moving it back. A unit may be reassigned while 处置中, and a further response may be
recorded while 已回应.
"""

from __future__ import annotations

from datetime import timedelta

from yuqing.errors import YuqingError
from yuqing.models import LEVEL_NAMES, LEVEL_ZH, LEVELS

PENDING, ASSESSED, HANDLING, RESPONDED, CLOSED, DISMISSED = "待研判", "已研判", "处置中", "已回应", "办结", "不予处置"
STATES: tuple[str, ...] = (PENDING, ASSESSED, HANDLING, RESPONDED, CLOSED, DISMISSED)
OPEN_STATES: tuple[str, ...] = (PENDING, ASSESSED, HANDLING, RESPONDED)
VERDICTS: tuple[str, ...] = ("属实", "不实", "谣言", "无关")
FEEDBACK_VERDICTS: tuple[str, ...] = ("不实", "无关")  # kept as feedback for detection and corrections

# action -> the states it may start from
ALLOWED: dict[str, tuple[str, ...]] = {
    "assess": (PENDING, ASSESSED, HANDLING, RESPONDED),
    "assign": (PENDING, ASSESSED, HANDLING),
    "respond": (HANDLING, RESPONDED),
    "close": (RESPONDED,),
    "dismiss": OPEN_STATES,
}
ACTION_ZH = {"open": "立案", "join": "并入预警", "escalate": "升级", "assess": "研判", "assign": "交办",
             "respond": "回应", "close": "办结", "dismiss": "不予处置", "overdue": "超期"}
HINT = {"respond": "先交办（cases assign）", "close": "先记录回应（cases respond）"}

# first response / 办结, counted from the assignment (written norms: a serious incident gets a first
# public statement within hours and a full answer within a day)
DEFAULT_DEADLINES: dict[str, tuple[timedelta, timedelta]] = {
    "red": (timedelta(hours=2), timedelta(hours=24)),
    "orange": (timedelta(hours=4), timedelta(hours=48)),
    "yellow": (timedelta(hours=12), timedelta(days=3)),
    "blue": (timedelta(hours=24), timedelta(days=7)),
}
_LEVEL_WORDS = {**{v: k for k, v in LEVEL_ZH.items()}, **{v: k for k, v in LEVEL_NAMES.items()},
                **{f"{v}色": k for k, v in LEVEL_ZH.items()}, **{k: k for k in LEVELS}}


class CaseError(YuqingError):
    """A case action a user asked for that cannot be done; `code` is the exit status (2: bad input)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def parse_level(value: str) -> str:
    """'红', '红色', 'red' or '红色(I级)' -> 'red'."""
    level = _LEVEL_WORDS.get(value.strip())
    if level is None:
        raise CaseError(f"unknown level {value!r}: use 红, 橙, 黄 or 蓝", 2)
    return level


def check_verdict(value: str) -> str:
    if value not in VERDICTS:
        raise CaseError(f"unknown verdict {value!r}: use one of {' / '.join(VERDICTS)}", 2)
    return value


def check_allowed(action: str, state: str, case_id: int) -> None:
    if state not in ALLOWED[action]:
        hint = HINT.get(action, "")
        raise CaseError(f"case #{case_id} is {state}: cannot {action} it ({ACTION_ZH[action]})"
                        + (f"; {hint}" if hint and state not in (CLOSED, DISMISSED) else ""), 1)


def level_name(level: str) -> str:
    return LEVEL_NAMES.get(level, level)
