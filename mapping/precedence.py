"""Grid first, then market: the 2.0b priority bands events are stored in. Pure.

A VEN applies, at any instant, the highest-priority constraint in force (2.0b priority 1 highest, 0 or
absent lowest; `mapping.flex.combine`), so a number decides who wins. Whatever number a sender asks
for, the VTN stores its event in its origin's band (`vtn.admin.events`, docs/vtn.md "Precedence"):

- **grid** — the system operator and DSO (EDF SEI), every event of a `dso:` source (the OpenADR 3 API,
  the French signals, the SEI alert): priorities 1 to 9. An asked number beyond 9 becomes 9, and so
  does none (0 or absent) — never "none", which would rank below the market;
- **market** — aggregators (`aggregator:` sources): 10 and lower. An asked number below 10 becomes 10;
  none stays none (already the lowest of all).

So a limit of the grid always outranks an aggregator's order, and within the grid band the grid's
own numbers (and, at equal numbers, the stricter value) decide. Events the VTN's operator makes by
hand (CLI, UI) keep the priority given: the operator ranks them.
"""

#: the grid band: the system operator's and the DSO's events
GRID_HIGHEST = 1
GRID_LOWEST = 9
#: the market band begins right below the grid band: the aggregators' events
MARKET_HIGHEST = GRID_LOWEST + 1


def grid_priority(requested: int | None) -> int:
    """A grid event's priority: `requested` within 1–9; none (0 or absent) or a number beyond 9 is 9."""
    if not requested or requested > GRID_LOWEST:
        return GRID_LOWEST
    return max(requested, GRID_HIGHEST)


def market_priority(requested: int | None) -> int | None:
    """An aggregator's event's priority: a number below 10 becomes 10; none (0 or absent) stays none (the lowest)."""
    if not requested:
        return requested
    return max(requested, MARKET_HIGHEST)
