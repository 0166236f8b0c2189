"""2.0b push mode, where the VTN POSTs to the VEN: the service each pushed message goes to and the message
types that answer it (2.0b spec samples). One table for both sides: the VTN's pusher and the VEN's endpoint."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Pushed:
    """One message type the VTN may push."""

    #: the service it is POSTed to: <transportAddress>/<service>
    service: str
    #: the message types a VEN answers it with (in the HTTP response); the first is the one a refusal takes
    answers: tuple[str, ...]


PUSHED: dict[str, Pushed] = {
    "oadrDistributeEvent": Pushed("EiEvent", ("oadrCreatedEvent", "oadrResponse")),
    "oadrRegisterReport": Pushed("EiReport", ("oadrRegisteredReport",)),
    "oadrCreateReport": Pushed("EiReport", ("oadrCreatedReport",)),
    "oadrCancelReport": Pushed("EiReport", ("oadrCanceledReport",)),
    "oadrUpdateReport": Pushed("EiReport", ("oadrUpdatedReport",)),
    "oadrCancelPartyRegistration": Pushed("EiRegisterParty", ("oadrCanceledPartyRegistration",)),
    "oadrRequestReregistration": Pushed("EiRegisterParty", ("oadrResponse",)),
}
