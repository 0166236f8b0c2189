"""What a translation refuses: the field (a JSON path such as `intervals[2].payloads[0].type`) and why."""


class Refused(ValueError):
    """A 3.x object (or part of one) that cannot be accepted or carried to 2.0b."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
