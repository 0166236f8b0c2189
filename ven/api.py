"""The VEN's public Python entry points, for programs that prepare or imitate sites without being the VEN (the
demo): the sites file and provisioning the sites in FlexMeasures. The demo's devices take their schedules as any
device would, from the setpoints the VEN dispatches (mapping/dispatch.py).

Everything else in `ven` is the VEN's own and may change under them; pyproject.toml's import contracts keep
`demo` to this module (the VTN it reaches only over HTTP and the `cariflex` command).
"""

from ven.config import SiteConfig, VenConfig, load_config
from ven.flexmeasures.provision import SiteAssets, provision, storage_capacity_kwh

__all__ = [
    "SiteAssets",
    "SiteConfig",
    "VenConfig",
    "load_config",
    "provision",
    "storage_capacity_kwh",
]
