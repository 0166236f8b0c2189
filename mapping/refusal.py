"""What a pure translation refuses: the field it could not take and why. One error for all of mapping/.

Every refusal in `mapping/` is a `Refused` (a ValueError): the DSO adapters, OpenADR 3 and the
aggregator API raise it as it is; signals a site cannot express
(`mapping.flex.constraints.SignalRefused`), units (`mapping.flex.units.UnitRefused`) and curtailment
inputs (`mapping.curtailment.CurtailmentRefused`). Each names its field — a JSON path such as
`intervals[2].payloads[0].type`, a signal name, a setting — so an answer, a log line or an optOut
reason says what to fix; `str()` is `"<field>: <reason>"`. Catch `Refused` for any of them, or a
subclass for one kind.
"""


class Refused(ValueError):
    """Input a pure translation cannot accept: `field` names what, `reason` says why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
