"""What a FlexMeasures call can fail with, decided by the exception's type — never by its message.

flexmeasures-client raises, for FlexMeasures being away, slow or refusing (read from the client,
0.9.6: `client.py`, `response_handling.py`, `exceptions.py`):

- `ConnectionError`: unreachable, a network error, a request or retry timeout (it wraps
  aiohttp's `ClientError`, `socket.gaierror` and `asyncio.TimeoutError` into it);
- `aiohttp.ClientError`: an error status without a JSON message (`raise_for_status`), a body that
  is not JSON (aiohttp's `ContentTypeError`);
- `flexmeasures_client.exceptions.ContentTypeError`: an answer of the wrong shape;
- `ValueError`: an error status with a JSON message (`check_response`, `check_for_status`). It
  raises `ValueError` for arguments it refuses too, and so does our own code, so a `ValueError` only
  counts when it comes out of a client call made through `call`, which turns it into
  `FlexMeasuresRefused`;
- `JobTimeoutError`: the scheduling job did not finish within the client's polling timeout.

`UNAVAILABLE` is that list: the call may succeed later, so the constraints are retried with
back-off and telemetry is posted or read again next round. A scheduling job that ends FAILED,
STOPPED or CANCELED (an infeasible problem, say) is `JobFailedError` (`SCHEDULE_FAILED`): the
client raises it from the job's status field (FlexMeasures ≥ 0.33's jobs endpoint; Cariflex
drives 1.0.1). An older FlexMeasures reports a failed job only as an HTTP 400 on the schedule,
which lands in `FlexMeasuresRefused`: retried, and logged with FlexMeasures' message.

Anything else out of a FlexMeasures path is a defect (ours or the client's): the callers log it
with its traceback, count it as an error and keep the VEN running — never as "FlexMeasures still
failing".
"""

from collections.abc import Awaitable
from typing import TypeVar

import aiohttp
from flexmeasures_client.exceptions import ContentTypeError, JobFailedError, JobTimeoutError

_T = TypeVar("_T")


class FlexMeasuresRefused(Exception):
    """FlexMeasures answered a request with an error status (the client's ValueError, kept as the cause)."""


async def call(request: Awaitable[_T]) -> _T:
    """Await one flexmeasures-client call; the ValueError it raises for an error status becomes `FlexMeasuresRefused`."""
    try:
        return await request
    except ValueError as exc:
        raise FlexMeasuresRefused(str(exc)) from exc


#: FlexMeasures away, too slow or refusing: the same call may succeed later
UNAVAILABLE: tuple[type[Exception], ...] = (
    ConnectionError,
    TimeoutError,
    aiohttp.ClientError,
    ContentTypeError,
    JobTimeoutError,
    FlexMeasuresRefused,
)
#: the scheduling job ended unsuccessfully: a schedule that failed, not FlexMeasures away
SCHEDULE_FAILED = JobFailedError
