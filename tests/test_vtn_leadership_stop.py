"""An orderly stop of a VTN that leads the lifecycle jobs is not reported as a lost leadership: operators
alert on that warning (the lock's connection dropped), and a stop logs at info level instead."""

import logging

from tests.support.vtn_harness import config_for_tests, running_vtn


async def test_stopping_the_leader_is_not_a_warning(db_url, caplog):
    caplog.set_level(logging.INFO, logger="cariflex.vtn.leadership")
    async with running_vtn(config_for_tests(db_url)) as vtn:
        assert vtn.process.leadership.is_leader
    said = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "cariflex.vtn.leadership"]
    assert (logging.INFO, "stopping: this process gives up the lifecycle leadership") in said
    assert not [m for level, m in said if level >= logging.WARNING]
