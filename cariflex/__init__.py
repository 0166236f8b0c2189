"""The `cariflex` command: one entry point for the VTN, the VENs and their tools."""

import warnings

from cryptography.utils import CryptographyDeprecationWarning

# signxml (imported by openleadr and certs.xmlsig) names DSA key types in its function signatures, so
# cryptography >= 46 warns at import time in every process, and openleadr's signer when it signs.
# Cariflex never signs or verifies with DSA (certs/xmlsig.py accepts ECDSA and RSA only), so the warning
# says nothing to an operator: silence exactly that one, where signxml and openleadr issue it, before
# anything imports them.
warnings.filterwarnings(
    "ignore", message="DSA is deprecated", category=CryptographyDeprecationWarning, module=r"(signxml|openleadr)\."
)
