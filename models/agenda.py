"""The core group agenda, in the order the guidance gives, with time boxes fitted to the meeting's length.

"Be assertive in keeping everyone 'on task' and keeping to time … Finish on time." Each item gets a
share of the meeting by weight; the shares are whole minutes (five-minute steps where the length
allows) and always add up to the meeting's length exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# (title, weight): the weights are the minutes of a 90-minute meeting.
ITEMS: tuple[tuple[str, int], ...] = (
    ("Updates from those unable to attend", 5),
    ("The child's views", 10),
    ("Progress on actions and any drift", 15),
    ("Scaling", 10),
    ("Are risks reducing or increasing?", 10),
    ("What is working well, what we are worried about, what needs to happen", 15),
    ("Decisions and new actions", 10),
    ("Recommendation for the review conference", 10),
    ("Next meeting", 5),
)
# The plan comes first: meeting 1 reviews and fine-tunes the plan from the conference (the seeds); every later
# meeting checks the group is still working to it.
REVIEW_PLAN = ("Review the plan", 15)
STILL_THE_PLAN = ("Are we still working to the plan?", 5)


def items_for(number: int) -> tuple[tuple[str, int], ...]:
    """The agenda's items for meeting `number` (1 is the first after the conference)."""
    return ((REVIEW_PLAN if number <= 1 else STILL_THE_PLAN), *ITEMS)


@dataclass(frozen=True)
class AgendaItem:
    number: int
    title: str
    minutes: int
    starts: datetime | None = None
    ends: datetime | None = None


def time_boxes(length_minutes: int, weights: tuple[int, ...] | None = None) -> list[int]:
    """Whole-minute shares of `length_minutes` by weight (largest remainder), each at least one step."""
    weights = weights or tuple(weight for _, weight in ITEMS)
    step = 5 if length_minutes % 5 == 0 and length_minutes >= 5 * len(weights) else 1
    units = length_minutes // step
    if units < len(weights):
        raise ValueError("the meeting is too short for its agenda")
    total = sum(weights)
    exact = [units * w / total for w in weights]
    shares = [int(x) for x in exact]
    left = units - sum(shares)
    for i in sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))[:left]:
        shares[i] += 1
    while 0 in shares:  # every item gets at least one step, taken from the longest
        longest = max(range(len(shares)), key=lambda i: shares[i])
        shares[longest] -= 1
        shares[shares.index(0)] = 1
    return [share * step for share in shares]


def agenda(length_minutes: int, starts: datetime | None = None, *, meeting_number: int = 2) -> list[AgendaItem]:
    """The agenda for meeting `meeting_number` with time boxes; with clock times when the start is known."""
    items: list[AgendaItem] = []
    clock = starts
    chosen = items_for(meeting_number)
    boxes = time_boxes(length_minutes, tuple(weight for _, weight in chosen))
    for number, ((title, _), minutes) in enumerate(zip(chosen, boxes, strict=True), start=1):
        ends = clock + timedelta(minutes=minutes) if clock is not None else None
        items.append(AgendaItem(number=number, title=title, minutes=minutes, starts=clock, ends=ends))
        clock = ends
    return items
