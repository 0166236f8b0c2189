"""`cariflex demo`: the whole gateway on the 40 Martinique sites, and one EDF SEI evening-peak alert.

Steps (each says what it does): PostgreSQL/Redis/Mosquitto started when missing; a local FlexMeasures
1.0.1 with the 40 sites provisioned; the VTN on SQLite (the embedded default configuration) with a
grid-operator API client and an operator login; the site VENs (FlexMeasures and MQTT telemetry on);
the site simulator; the alert, sent through the DSO API as EDF SEI would; then what happens, read
from the VTN's HTTP API as its operator: deliveries, opt answers, the schedules the devices took, achieved curtailment.

Everything lives in the data folder (default var/demo, emptied at each start: running it twice
works; `make demo-clean` removes it). Ctrl-C stops every process it started.
"""

import asyncio
import base64
import contextlib
import json
import logging
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

import aiohttp

from demo import outcome as outcomes
from demo.flexmeasures_server import ENSURE_SERVICES, REPO, FlexMeasuresServer, flexmeasures_server, run_script
from demo.meter_operator import HISTORY_DAYS, history_curves, recorded_curve
from demo.processes import CARIFLEX, Child, DemoError, cariflex, start_child, wait_for_line
from demo.progress import out, say, show_changes, show_metered, show_wait
from demo.s2_devices import ResourceManager, resource_managers
from demo.scenario import DemoPlan, plan, ven_time_zone
from demo.simulator import SimulatedSite, SiteSimulator, new_site
from demo.vens import start_vens
from demo.vtn_api import VtnApi
from mapping.curtailment import MeterStep
from mapping.curtailment.meter_file import format_load_curves
from mapping.curtailment.report import REPORT_NAME
from mapping.grid import floor_slot
from ven.api import SiteAssets, SiteConfig, load_config, provision
from vtn.banner import BASE_URL_PATTERN

SITES_FILE = REPO / "config" / "sites.toml"
FM_EMAIL = "demo@cariflex.mq"
DSO_CLIENT = "edf-sei"
UI_USER = "demo"
#: meter history published at start: the rectangle baseline needs the hour before the event
BACKFILL = timedelta(minutes=75)
#: from writing the VENs' configuration to sending the alert (their registration, the backfill): ~2 minutes
VEN_START_ALLOWANCE = timedelta(minutes=2)
#: the file that marks a folder as the demo's (and so one it may empty)
MARKER = ".cariflex-demo"
#: sites per load-curve file the demo uploads (a file stays under the VTN's 2 MB request limit)
CURVE_SITES = 10
#: how long after the event's end the demo waits for the VENs' curtailment reports
REPORT_WAIT = timedelta(minutes=4)
#: how long, once the VENs are registered, the demo waits for every storage device's RM to pair (seconds)
RM_PAIRING_WAIT = 30.0


@dataclass(frozen=True)
class DemoOptions:
    """What `cariflex demo` was asked for."""

    fast: int | None = None
    data_dir: Path = REPO / "var" / "demo"
    vtn_port: int = 8080
    mqtt_port: int = 1883
    #: stop once the curtailment is reported (scripts, tests) instead of serving the UI until Ctrl-C
    exit_when_done: bool = False
    level: str = "RED"


@dataclass
class Gateway:
    """What the demo started and how to reach it."""

    fm: FlexMeasuresServer
    sites: tuple[SiteConfig, ...]
    assets: dict[str, SiteAssets]
    vtn_url: str
    vtn_db: str
    dso_secret: str
    ui_password: str
    children: list[Child] = field(default_factory=list)
    #: the VENs' S2 CEM (ws://…/) the batteries', EV chargers' and V2G cars' RMs connect to
    cem_url: str = ""


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the demo the way Ctrl-C does: every child stopped


def run(options: DemoOptions) -> int:
    """Run the demo; returns the exit status (0: the event's curtailment was reported)."""
    signal.signal(signal.SIGTERM, _interrupt)
    # Ctrl-C stops the demo however it was started: a background job of a script inherits SIGINT ignored,
    # and Python then installs no KeyboardInterrupt handler of its own
    signal.signal(signal.SIGINT, signal.default_int_handler)
    data = options.data_dir.resolve()
    try:
        _empty(data)
    except DemoError as exc:
        say(f"failed: {exc}")
        return 1
    try:
        with contextlib.ExitStack() as stack:  # left before the last line: the clean-up's output comes first
            try:
                gateway = _start(options, data, stack)
                return asyncio.run(_show(options, data, gateway))
            finally:
                say("stopping the VENs, the VTN and FlexMeasures")
    except KeyboardInterrupt:
        say("stopping (Ctrl-C)")
        return 130
    except Exception as exc:  # noqa: BLE001 - every failure ends with one line naming the step, not a traceback
        say(f"failed: {_failure(exc, data)}")
        return 1


def _failure(exc: Exception, data: Path) -> str:
    """What to print after "failed: ": a step's own message (DemoError, and the scripts' RuntimeError), or for
    anything unforeseen its type and text, its traceback written to the data folder for a bug report."""
    if isinstance(exc, DemoError | RuntimeError | subprocess.SubprocessError):
        return str(exc)
    path = data / "demo-error.txt"
    with contextlib.suppress(OSError):
        path.write_text("".join(traceback.format_exception(exc)))
    return f"{type(exc).__name__}: {exc} (traceback in {path})"


@contextlib.contextmanager
def step(what: str, log: Path | None = None) -> Iterator[None]:
    """Re-raise any failure inside as DemoError naming `what` (the step) and the `log` to read: MQTT
    (aiomqtt.MqttError), HTTP (aiohttp and flexmeasures_client errors), and unexpected answers (JSON, KeyError)
    are not DemoErrors of their own."""
    try:
        yield
    except DemoError:
        raise
    except Exception as exc:
        where = f"; see {log}" if log is not None else ""
        raise DemoError(f"{what}: {type(exc).__name__}: {exc}{where}") from exc


def _empty(data: Path) -> None:
    """Start from an empty data folder: a previous demo's is removed, anything else is refused (never delete a
    folder the demo did not make)."""
    marker = data / MARKER
    if data.exists() and not data.is_dir():
        raise DemoError(f"{data} is a file, not a folder; choose another --data-dir")
    if data.exists() and any(data.iterdir()):
        if not marker.exists():
            raise DemoError(f"{data} is not empty and not a demo's data folder (no {MARKER}); choose another --data-dir")
        say(f"removing the previous demo's data in {data}")
        shutil.rmtree(data)
    data.mkdir(parents=True, exist_ok=True)
    marker.write_text("written by `cariflex demo`: this folder is emptied at each start\n")


def _start(options: DemoOptions, data: Path, stack: contextlib.ExitStack) -> Gateway:
    if options.mqtt_port == 1883:  # the machine's broker; PostgreSQL and Redis are checked with FlexMeasures
        say("checking Mosquitto (installed and started when missing)")
        run_script(["mosquitto"], lambda line: out(f"    {line}"), 1200, script=ENSURE_SERVICES)
    say("starting FlexMeasures 1.0.1 on PostgreSQL and Redis (its own venv, installed the first time: 1 to 5 min)")
    fm_dir = data / "flexmeasures"
    with step("starting FlexMeasures", fm_dir):
        fm = stack.enter_context(flexmeasures_server(fm_dir, lambda line: out(f"    {line}"), FM_EMAIL))
    sites = load_config(REPO / "config" / "ven.toml", SITES_FILE).sites
    say(f"provisioning the {len(sites)} Martinique sites in FlexMeasures (assets, sensors, flex-context, flex-models)")
    logging.getLogger("cariflex.ven.provision").setLevel(logging.WARNING)  # provision prints one line per site
    logging.getLogger("s2python").setLevel(logging.WARNING)  # the RMs' library says each session's start and end
    with step(f"provisioning the sites in FlexMeasures at {fm.base_url}", fm_dir / "server.log"):
        assets = asyncio.run(_provision(fm, sites))

    vtn_db = f"sqlite:///{data / 'vtn.db'}"
    cariflex(["db", "upgrade", "--db", vtn_db])
    added = cariflex(["dso", "client", "add", DSO_CLIENT, "--db", vtn_db])
    found = re.search(r"client_secret=(\S+)", added)
    if not found:
        raise DemoError(f"`cariflex dso client add` printed no secret: {added}")
    password = secrets.token_urlsafe(12)
    env = {"PATH": "/usr/bin:/bin", "CARIFLEX_DEMO_PASSWORD": password}
    cariflex(["user", "add", UI_USER, "--role", "operator", "--password-env", "CARIFLEX_DEMO_PASSWORD", "--db", vtn_db], env=env)

    say("starting the VTN (config/vtn.toml, SQLite)")
    vtn = start_child("VTN", ["vtn", "--db", vtn_db, "--port", str(options.vtn_port)], data / "vtn.log")
    stack.callback(vtn.stop)
    base = wait_for_line(vtn, BASE_URL_PATTERN, 90).group(1)
    gateway = Gateway(fm, sites, assets, base, vtn_db, found.group(1), password, [vtn])

    # the VENs read their sites' household profile and EV sessions in the scenario's time (with --fast the
    # evening is now): the plan as it will be once they are up
    anticipated = plan(datetime.now(UTC) + VEN_START_ALLOWANCE, options.fast, options.level)
    time_zone = ven_time_zone(anticipated.scenario_offset)
    vens = start_vens(stack, data, gateway.vtn_url, fm, SITES_FILE, sites, options.mqtt_port, time_zone)
    gateway.children.append(vens.child)
    gateway.cem_url, gateway.sites = vens.cem_url, vens.sites
    return gateway


async def _provision(fm: FlexMeasuresServer, sites: tuple[SiteConfig, ...]) -> dict[str, SiteAssets]:
    client = fm.client()
    try:
        return await provision(client, sites)
    finally:
        await client.close()


async def _show(options: DemoOptions, data: Path, gateway: Gateway) -> int:
    vtn = VtnApi(gateway.vtn_url, UI_USER, gateway.ui_password)
    stop = asyncio.Event()
    sites = [new_site(site) for site in gateway.sites]
    try:
        # the storage devices' RMs pair at once: a device whose RM has not connected within [s2] reception_timeout of
        # its first schedule would count as not following
        async with resource_managers(sites, gateway.cem_url) as rms:
            return await _run_sites(options, data, gateway, vtn, sites, rms, stop)
    finally:
        stop.set()
        await vtn.close()


async def _run_sites(
    options: DemoOptions,
    data: Path,
    gateway: Gateway,
    vtn: VtnApi,
    sites: list[SimulatedSite],
    rms: list[ResourceManager],
    stop: asyncio.Event,
) -> int:
    """The story once the devices' RMs are connecting: the meters' history, the alert, what follows."""
    with step("waiting for the VENs to register", data / "ven.log"):
        await _wait_for_vens(vtn, gateway)
    deadline = time.monotonic() + RM_PAIRING_WAIT
    while not all(rm.paired for rm in rms) and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    say(
        f"S2: {sum(rm.paired for rm in rms)} of {len(rms)} storage devices' Resource Managers paired with the VENs' CEM "
        f"at {gateway.cem_url} (FRBC); the PV roofs take MQTT setpoints"
    )
    the_plan = plan(datetime.now(UTC), options.fast, options.level)
    simulator = SiteSimulator(sites, options.mqtt_port, scenario_offset=the_plan.scenario_offset)
    now = datetime.now(UTC)
    backfill_start = floor_slot(min(now, the_plan.start) - BACKFILL)  # on the grid: the history ends where it begins
    count = await _publish_history(simulator, backfill_start, now)
    say(
        f"site simulator: published {count} meter readings of the last {BACKFILL.seconds // 60} minutes "
        "(the baselines need them); live every 10 s from now"
    )
    history = history_curves(gateway.sites, backfill_start, the_plan.scenario_offset)
    await _deliver_curves(vtn, "meter-history", history, data, f"the sites' load curves of the last {HISTORY_DAYS} days")
    live = asyncio.create_task(simulator.run(lambda: datetime.now(UTC), stop))
    # the response is measured from when the devices were asked (the event may have begun before: `--fast` sends the
    # alert into a quarter hour under way), allowing for what each device could still do then (physics)
    asked = outcomes.Asked(max(datetime.now(UTC), the_plan.start), the_plan.end, simulator.movable())
    event_id = await _send_alert(gateway.vtn_url, gateway.dso_secret, the_plan, data / "vtn.log")
    _print_ui(gateway)
    result = await _follow(vtn, gateway, the_plan, event_id, simulator, live, data, backfill_start, asked)
    if options.exit_when_done:
        return result
    say("the demo keeps running: open the UI above; Ctrl-C stops everything")
    await asyncio.Event().wait()
    return result


async def _wait_for_vens(vtn: VtnApi, gateway: Gateway, timeout: float = 180.0) -> None:
    """Until every site's VEN is registered and offers the x-ACHIEVED_CURTAILMENT report."""
    names = {site.ven_name for site in gateway.sites}
    deadline, shown = time.monotonic() + timeout, -1
    while True:
        vens = [v for v in await vtn.vens() if v["ven_name"] in names and v["registration_id"]]
        ready = {v["ven_id"] for v in vens if REPORT_NAME in v["reports"]}
        if len(ready) != shown:
            say(f"VENs registered with their reports: {len(ready)}/{len(names)}")
            shown = len(ready)
        if len(ready) == len(names):
            return
        _check_children(gateway)
        if time.monotonic() > deadline:
            raise DemoError(
                f"only {len(ready)} of {len(names)} VENs registered within {timeout:.0f} s; see {gateway.children[-1].log}"
            )
        await asyncio.sleep(2)


def _check_children(gateway: Gateway) -> None:
    for child in gateway.children:
        if not child.alive():
            raise DemoError(
                f"the {child.name} stopped (exit {child.process.returncode}); its log {child.log} ends:\n{child.log_tail()}"
            )


async def _publish_history(simulator: SiteSimulator, start: datetime, end: datetime) -> int:
    """The meters' history over [start, end) (SiteSimulator.backfill); returns the number of messages."""
    with step(f"publishing the meters' history over MQTT on {simulator.mqtt_host}:{simulator.mqtt_port}"):
        return await simulator.backfill(start, end)


async def _deliver_curves(vtn: VtnApi, name: str, curves: dict[str, list[MeterStep]], data: Path, what: str) -> None:
    """Write `curves` as CSV files of CURVE_SITES sites each (under the VTN's body limit) and import them through the
    operator UI's Meter data page, as an operator would upload the meter operator's files."""
    names = sorted(curves)
    steps = 0
    with step(f"importing {what} into the VTN at {vtn.base_url}", data / "vtn.log"):
        for first in range(0, len(names), CURVE_SITES):
            part = {site: curves[site] for site in names[first : first + CURVE_SITES]}
            path = data / f"{name}-{first // CURVE_SITES + 1}.csv"
            path.write_text(format_load_curves(part))
            await vtn.upload_meter_data(path.name, path.read_text())
            steps += sum(len(s) for s in part.values())
    say(f"meter operator: {what} delivered to the VTN ({steps} steps, {_shown(data)}/{name}-*.csv; UI: Meter data)")


async def _send_alert(vtn_url: str, dso_secret: str, the_plan: DemoPlan, vtn_log: Path) -> str:
    """POST the EDF SEI alert to the DSO API as the grid operator would; returns the event id."""
    alert = the_plan.alert()
    basic = base64.b64encode(f"{DSO_CLIENT}:{dso_secret}".encode()).decode()
    with step(f"sending EDF SEI's alert to the VTN's DSO API at {vtn_url}", vtn_log):
        async with aiohttp.ClientSession() as session:
            async with session.post(
                f"{vtn_url}/dso/auth/token",
                data={"grant_type": "client_credentials"},
                headers={"Authorization": f"Basic {basic}"},
            ) as response:
                answer = await response.json(content_type=None)
                if response.status != 200 or "access_token" not in answer:
                    raise DemoError(f"the VTN gave the {DSO_CLIENT} client no token: HTTP {response.status} {answer}")
                token = answer["access_token"]
            async with session.post(
                f"{vtn_url}/dso/signals/sei-peak", json=alert, headers={"Authorization": f"Bearer {token}"}
            ) as response:
                answer = await response.json(content_type=None)
                if response.status not in (200, 201):
                    raise DemoError(f"the VTN refused the alert {alert}: HTTP {response.status} {answer}")
        event_id = str(answer["event_ids"][0])
    say(f"EDF SEI sent its evening-peak alert {json.dumps(alert)} → event {event_id}: {the_plan.window(datetime.now(UTC))}")
    return event_id


def _print_ui(gateway: Gateway) -> None:
    say(f"operator UI: {gateway.vtn_url}/ui/  login: {UI_USER}  password: {gateway.ui_password}")
    say(f"command line on the demo's store: {on_store(gateway.vtn_db, 'event', 'list')} (every command takes the same --db)")


def on_store(vtn_db: str, *args: str) -> str:
    """A `cariflex` command line an operator can paste, pointed at the demo's SQLite store `vtn_db` (paths relative to
    the current folder when they are inside it, as the CLI resolves a relative sqlite:/// path against it)."""
    database = Path(vtn_db.removeprefix("sqlite:///"))
    words = [_shown(Path(CARIFLEX)), *args, "--db", f"sqlite:///{_shown(database)}"]
    return " ".join(shlex.quote(word) for word in words)


def _shown(path: Path) -> str:
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


async def _follow(
    vtn: VtnApi,
    gateway: Gateway,
    the_plan: DemoPlan,
    event_id: str,
    simulator: SiteSimulator,
    live: asyncio.Task,
    data: Path,
    recorded_since: datetime,
    asked: outcomes.Asked,
) -> int:
    """Print what changes until every opted-in VEN has reported its curtailment (or the wait is over); then deliver
    the run's load curves to the VTN, as the meter operator would, and print the VTN's settlement of the event."""
    shown: dict[str, object] = {}
    give_up = the_plan.end + REPORT_WAIT
    while True:
        _check_children(gateway)
        if live.done():
            with step(f"the site simulator (MQTT on {simulator.mqtt_host}:{simulator.mqtt_port})"):
                live.result()  # the simulator failed: say why
        began = time.monotonic()
        with step(f"reading the event's outcome from the VTN at {vtn.base_url}", data / "vtn.log"):
            found = await outcomes.read_outcome(vtn, event_id)
        took = time.monotonic() - began  # the VTN computes each site's figures: never ask faster than it answers
        show_changes(found, simulator.scheduled_kw, the_plan, shown)
        show_wait(the_plan, shown)
        reported = found.reported()
        now = datetime.now(UTC)
        if now >= the_plan.end and found.opted_in and set(found.opted_in) <= reported:
            break
        if now > give_up:
            say(f"only {len(reported)} of {len(found.opted_in)} opted-in VENs reported their curtailment by {give_up:%H:%M} UTC")
            break
        await asyncio.sleep(max(5.0, 2 * took))
    run = {name: recorded_curve(readings, recorded_since, the_plan.end) for name, readings in simulator.readings.items()}
    await _deliver_curves(vtn, "meter-run", run, data, "the meters' 5-minute load curves of the run")
    with step(f"reading the event's outcome from the VTN at {vtn.base_url}", data / "vtn.log"):
        found = await outcomes.read_outcome(vtn, event_id)
    with step(f"reading the event's curtailment table from the VTN at {vtn.base_url}", data / "vtn.log"):
        lines = await vtn.curtailment_table(event_id)
    table = on_store(gateway.vtn_db, "reports", "curtailment", event_id, "--format", "table")
    say(f"achieved curtailment of event {event_id}, from the VTN's store (the same table: {table}):")
    for line in lines:
        out(f"    {line}")
    kinds = {site.config.name: site.kind for site in simulator.sites}
    metered = outcomes.metered_sites(simulator.readings, simulator.uncontrolled, kinds, asked)
    show_metered(metered, asked)
    (data / "outcome.json").write_text(json.dumps(outcomes.as_json(found, asked, metered), indent=1))
    say(f"written to {data / 'outcome.json'}")
    return 0 if reported and set(found.opted_in) <= reported else 1
