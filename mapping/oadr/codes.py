"""eiResponse codes of OpenADR 2.0b (specification table 'Response codes')."""

from enum import IntEnum


class ResponseCode(IntEnum):
    """The codes a 2.0b party puts in eiResponse/responseCode."""

    OK = 200
    BAD_REQUEST = 400
    OUT_OF_SEQUENCE = 450
    NOT_ALLOWED = 451
    INVALID_ID = 452
    NOT_RECOGNIZED = 453
    INVALID_DATA = 454
    COMPLIANCE_ERROR = 459
    SIGNAL_NOT_SUPPORTED = 460
    REPORT_NOT_SUPPORTED = 461
    TARGET_MISMATCH = 462
    NOT_REGISTERED_OR_AUTHORIZED = 463
    DEPLOYMENT_ERROR_OR_OTHER_ERROR = 469


class OadrError(Exception):
    """A protocol-level refusal: answered with `code` in the right response message."""

    def __init__(self, code: ResponseCode, description: str) -> None:
        super().__init__(f"{int(code)} {description}")
        self.code = code
        self.description = description
