"""The VTN's commands: `vtn`, `db`, `event`, `vens`, `reports`, `opts`, `dso`, `aggregator`, `user`."""

from vtn.cli.main import register

__all__ = ["register"]
