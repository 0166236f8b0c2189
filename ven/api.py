"""The VEN's public Python entry points, for programs that prepare or imitate sites without being the VEN (the
demo): the sites file, provisioning the sites in FlexMeasures, and reading a FlexMeasures sensor back.

Everything else in `ven` is the VEN's own and may change under them; pyproject.toml's import contracts keep
`demo` to this module (the VTN it reaches only over HTTP and the `cariflex` command).
"""

from ven.config import SiteConfig, VenConfig, load_config
from ven.flexmeasures.hooks import read_kw
from ven.flexmeasures.provision import STORAGE_KINDS, SiteAssets, provision, storage_capacity_kwh

__all__ = [
    "STORAGE_KINDS",
    "SiteAssets",
    "SiteConfig",
    "VenConfig",
    "load_config",
    "provision",
    "read_kw",
    "storage_capacity_kwh",
]
