"""Start, stop and inspect a real FlexMeasures 1.0.1 server for Cariflex (development and tests).

Run it through ``scripts/flexmeasures.sh start|stop|status``, which picks the FlexMeasures venv's
Python (this file needs its ``redis`` and ``psycopg2``; the ``provision`` step imports FlexMeasures).

``start`` brings up, in a run directory (default ``var/flexmeasures``):

1. a Redis database number of its own (claimed with a key, so instances sharing one Redis never run
   each other's jobs);
2. a PostgreSQL database of its own (created when missing);
3. ``flexmeasures db upgrade``, ``add initial-structure``, ``add account``, ``add user`` (password
   piped, never prompted) - run in ONE Python process, since every ``flexmeasures`` command costs
   ~10 s of imports here;
4. ``flexmeasures run --no-reload --no-debugger`` on 127.0.0.1 and one RQ worker on the
   ``scheduling`` queue only (no ``ingestion`` worker: posted sensor data is then stored at once);
5. waits until the API answers and the worker is registered, and writes ``state.json`` (URL,
   credentials, PIDs, timings) beside ``server.log``, ``worker.log`` and ``provision.log``.

``stop`` ends both process groups and the worker's job processes (SIGTERM, then SIGKILL), empties and releases the Redis database,
and with ``--drop-database`` drops the PostgreSQL database. ``--watch-pid`` makes a small watchdog
do that on its own when the given process (e.g. pytest) dies without stopping the server.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from fm_map_patch import DEFAULT_TILE_URL, PatchError, check_tile_url

REPO = Path(__file__).resolve().parent.parent
DEFAULT_RUN_DIR = REPO / "var" / "flexmeasures"
DEFAULT_CONFIG = REPO / "config" / "flexmeasures-config.cfg"
DEFAULT_VENV = Path(os.environ.get("CARIFLEX_FM_VENV", REPO / ".venv-flexmeasures"))
DEFAULT_PG_ADMIN = os.environ.get("CARIFLEX_FM_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_CLAIM_KEY = "cariflex:flexmeasures:owner"
STATE_FILE = "state.json"
PROVISIONED_MARK = "CARIFLEX-PROVISIONED "


class StartError(RuntimeError):
    """Bring-up failed; the message says which step and where its log is."""


def say(message: str) -> None:
    """Print one progress line (flushed: the caller may be pytest reading a pipe)."""
    print(f"==> [flexmeasures] {message}", flush=True)


# --------------------------------------------------------------------------------------------------
# processes


def pid_alive(pid: int | None) -> bool:
    """True when `pid` runs and is not a zombie (PID 1 here may not reap orphans)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return True


def stop_group(pid: int | None, name: str, timeout: float = 15.0) -> None:
    """SIGTERM the process group led by `pid` (the RQ worker's work-horses too), SIGKILL after `timeout`."""
    if not pid_alive(pid):
        return
    assert pid is not None
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    except PermissionError:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid) and not group_alive(pid):
            return
        time.sleep(0.1)
    say(f"{name} (pid {pid}) did not stop within {timeout:.0f} s: killing it")
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (pid_alive(pid) or group_alive(pid)):
        time.sleep(0.1)


def processes_naming(text: str) -> list[int]:
    """Live pids (not this one) whose command line contains `text`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline and pid_alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def stop_work_horses(worker_name: str, timeout: float = 5.0) -> None:
    """End the RQ work-horses of worker `worker_name`: RQ forks each job into a session of its own (os.setsid), so
    neither the worker's process group nor its exit ends a job still running; the fork keeps the worker's
    command line, which names the worker."""
    horses = processes_naming(worker_name)
    if not horses:
        return
    say(f"stopping {len(horses)} job process(es) of worker {worker_name} (pids {', '.join(map(str, horses))})")
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in horses:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(pid_alive(pid) for pid in horses):
            time.sleep(0.1)
        horses = [pid for pid in horses if pid_alive(pid)]
        if not horses:
            return


def group_alive(pgid: int) -> bool:
    """True while any live process is in process group `pgid`."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


def child_env(venv: Path, run_dir: Path, database_url: str, redis: dict[str, Any], tile_url: str) -> dict[str, str]:
    """Environment for FlexMeasures processes: HOME is the run dir (its .flexmeasures.cfg is ours, and reads the
    CARIFLEX_FM_* variables)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FLASK_", "FLEXMEASURES_", "SQLALCHEMY_", "PYTHON", "VIRTUAL_ENV"))
        and k != "CARIFLEX_FM_PASSWORD"  # the user's password reaches `add user` through a pipe only
    }
    env.update(
        HOME=str(run_dir),
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}",
        VIRTUAL_ENV=str(venv),
        PYTHONUNBUFFERED="1",
        FLEXMEASURES_ENV="development",
        CARIFLEX_FM_DATABASE_URL=database_url,
        CARIFLEX_FM_REDIS_HOST=redis["host"],
        CARIFLEX_FM_REDIS_PORT=str(redis["port"]),
        CARIFLEX_FM_REDIS_DB=str(redis["db"]),
        CARIFLEX_FM_TILE_URL=tile_url,
    )
    return env


def spawn(cmd: list[str], log: Path, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    """Start `cmd` as the leader of a new session (no terminal: getpass reads stdin), output to `log`."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True
        )


def log_tail(path: Path, lines: int = 25) -> str:
    """The last `lines` lines of a log, indented, for error messages."""
    try:
        text = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return "    (no log)"
    return "\n".join("    " + line for line in text)


# --------------------------------------------------------------------------------------------------
# PostgreSQL and Redis


def pg_parts(url: str) -> tuple[str, str]:
    """Split a postgresql:// URL into (server part, database name)."""
    base, _, name = url.rpartition("/")
    return base, name.split("?", 1)[0]


def pg_admin_connect(admin_url: str):  # noqa: ANN201 - psycopg2 is imported lazily
    """An autocommit psycopg2 connection (CREATE/DROP DATABASE cannot run in a transaction)."""
    import psycopg2

    conn = psycopg2.connect(admin_url, connect_timeout=10)
    conn.autocommit = True
    return conn


def ensure_database(admin_url: str, name: str) -> bool:
    """Create database `name` unless it exists; True when it was created now."""
    conn = pg_admin_connect(admin_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone():
                return False
            cur.execute(f'CREATE DATABASE "{name}"')
            return True
    finally:
        conn.close()


def drop_database(admin_url: str, name: str) -> None:
    """Drop database `name` (closing its connections first)."""
    conn = pg_admin_connect(admin_url)
    try:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        conn.close()


def redis_client(host: str, port: int, db: int):  # noqa: ANN201 - redis is imported lazily
    """A redis-py client for database `db` (password from CARIFLEX_FM_REDIS_PASSWORD, like the config)."""
    import redis

    return redis.Redis(
        host=host, port=port, db=db, password=os.environ.get("CARIFLEX_FM_REDIS_PASSWORD") or None, socket_timeout=5
    )


def claim_redis_db(host: str, port: int, wanted: str, run_dir: Path) -> tuple[int, bool]:
    """Pick the Redis database number: `wanted` as given, or ("auto") the first free one of 1..n-1.

    An automatic pick is claimed with a key (SET NX) naming the run dir and this PID; a claim whose
    owner is gone (its server and its starter both dead) is taken over. Returns (number, claimed).
    """
    import redis

    probe = redis_client(host, port, 0)
    try:
        probe.ping()
    except redis.RedisError as exc:
        raise StartError(f"Redis does not answer on {host}:{port} ({exc}); start it (scripts/ensure-services.sh redis)") from exc
    if wanted != "auto":
        return int(wanted), False
    try:
        count = int(probe.config_get("databases").get("databases", 16))
    except redis.RedisError:
        count = 16
    claim = json.dumps({"run_dir": str(run_dir), "starter_pid": os.getpid(), "server_pid": None, "at": time.time()})
    for number in range(1, count):
        client = redis_client(host, port, number)
        if client.set(REDIS_CLAIM_KEY, claim, nx=True):
            return number, True
        try:
            owner = json.loads(client.get(REDIS_CLAIM_KEY) or b"{}")
        except ValueError:
            owner = {}
        owner_alive = pid_alive(owner.get("server_pid")) or pid_alive(owner.get("starter_pid"))
        if not owner_alive:
            say(f"Redis database {number}: taking over a stale claim from {owner.get('run_dir', '?')}")
            client.flushdb()
            if client.set(REDIS_CLAIM_KEY, claim, nx=True):
                return number, True
    raise StartError(f"no free Redis database on {host}:{port} (all of 1..{count - 1} are claimed by running instances)")


def update_redis_claim(host: str, port: int, db: int, run_dir: Path, server_pid: int) -> None:
    """Record the server PID in the claim: the claim is stale once that process is gone."""
    client = redis_client(host, port, db)
    client.set(
        REDIS_CLAIM_KEY,
        json.dumps({"run_dir": str(run_dir), "starter_pid": os.getpid(), "server_pid": server_pid, "at": time.time()}),
    )


def release_redis_db(host: str, port: int, db: int) -> None:
    """Empty a claimed Redis database (queues, job cache, claim key): jobs do not outlive their server."""
    redis_client(host, port, db).flushdb()


# --------------------------------------------------------------------------------------------------
# readiness


def free_port() -> int:
    """A loopback port nobody listens on now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int) -> bool:
    """True when something accepts connections on 127.0.0.1:`port`."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def api_versions(base_url: str, timeout: float = 2.0) -> dict[str, Any] | None:
    """GET /api/ (no auth needed); None while the server does not answer."""
    try:
        with urllib.request.urlopen(f"{base_url}/api/", timeout=timeout) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def worker_registered(redis_conf: dict[str, Any], name: str) -> bool:
    """True once the RQ worker `name` has registered itself in Redis (it is then listening)."""
    client = redis_client(redis_conf["host"], redis_conf["port"], redis_conf["db"])
    return bool(client.exists(f"rq:worker:{name}"))


# --------------------------------------------------------------------------------------------------
# state


def read_state(run_dir: Path) -> dict[str, Any] | None:
    """The state.json of a run dir, or None when there is none (stopped)."""
    try:
        return json.loads((run_dir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None


def write_state(run_dir: Path, state: dict[str, Any]) -> None:
    """Write state.json atomically, readable by its owner only."""
    path = run_dir / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.chmod(0o600)  # it holds the user's password
    tmp.replace(path)


# --------------------------------------------------------------------------------------------------
# start


def cmd_start(args: argparse.Namespace) -> int:
    """`start`: see the module docstring; raises StartError after cleaning up what it had started."""
    run_dir: Path = args.run_dir.resolve()
    venv: Path = args.venv.resolve()
    config: Path = args.config.resolve()
    flexmeasures = venv / "bin" / "flexmeasures"
    if not flexmeasures.exists():
        raise StartError(f"{flexmeasures} is missing: run 'scripts/flexmeasures.sh install'")
    if not config.exists():
        raise StartError(f"config file {config} is missing")
    try:
        tile_url = check_tile_url(args.tile_url, "--tile-url (or CARIFLEX_FM_TILE_URL)")
    except PatchError as exc:
        raise StartError(str(exc)) from exc
    previous = read_state(run_dir)
    if previous and (pid_alive(previous["pids"].get("server")) or pid_alive(previous["pids"].get("worker"))):
        raise StartError(f"FlexMeasures already runs from {run_dir} at {previous['base_url']}: stop it first")
    run_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("server.log", "worker.log", "provision.log", STATE_FILE):
        (run_dir / stale).unlink(missing_ok=True)
    cfg_link = run_dir / ".flexmeasures.cfg"
    cfg_link.unlink(missing_ok=True)
    cfg_link.symlink_to(config)

    port = args.port or free_port()
    if port_in_use(port):
        raise StartError(f"port {port} on 127.0.0.1 is already in use")
    base_url = f"http://127.0.0.1:{port}"
    pg_server, _ = pg_parts(args.pg_admin)
    database_url = f"{pg_server}/{args.database}"
    password = args.password or os.environ.get("CARIFLEX_FM_PASSWORD") or secrets.token_urlsafe(12)
    timings: dict[str, float] = {}
    began = time.monotonic()
    state: dict[str, Any] = {
        "base_url": base_url,
        "host": "127.0.0.1",
        "port": port,
        "database": args.database,
        "database_url": database_url,
        "pg_admin": args.pg_admin,
        "drop_database_on_stop": args.drop_database_on_exit,
        "email": args.email,
        "password": password,
        "account": args.account,
        "run_dir": str(run_dir),
        "venv": str(venv),
        "config": str(config),
        "tile_url": tile_url,
        "pids": {},
        "timings": timings,
    }
    procs: dict[str, subprocess.Popen[bytes]] = {}
    redis_conf: dict[str, Any] = {"host": args.redis_host, "port": args.redis_port, "db": None, "claimed": False}
    created_db = False
    try:
        t = time.monotonic()
        redis_conf["db"], redis_conf["claimed"] = claim_redis_db(args.redis_host, args.redis_port, args.redis_db, run_dir)
        state["redis"] = redis_conf
        write_state(run_dir, state)  # from here on, `stop` can clean up even a half-started instance
        say(f"Redis {args.redis_host}:{args.redis_port} database {redis_conf['db']}")

        try:
            created_db = ensure_database(args.pg_admin, args.database)
        except Exception as exc:  # psycopg2.OperationalError and friends
            raise StartError(f"PostgreSQL at {pg_server} refused: {exc}".strip()) from exc
        state["database_created"] = created_db
        timings["database_s"] = round(time.monotonic() - t, 2)
        say(f"PostgreSQL database {args.database} {'created' if created_db else 'exists'} ({timings['database_s']} s)")

        env = child_env(venv, run_dir, database_url, redis_conf, tile_url)
        t = time.monotonic()
        say("db upgrade, initial structure, account and user (one FlexMeasures process, ~15 s)")
        provisioned = provision(venv, run_dir, env, args, password)
        state["account_id"] = provisioned["account_id"]
        state["user_id"] = provisioned["user_id"]
        timings["provision_s"] = round(time.monotonic() - t, 2)
        timings.update({f"provision_{k}": v for k, v in provisioned["timings"].items()})
        say(f"provisioned in {timings['provision_s']} s: account {args.account!r}, user {args.email}")

        t = time.monotonic()
        worker_name = f"cariflex-{port}-{secrets.token_hex(3)}"
        state["worker_name"] = worker_name
        procs["server"] = spawn(
            [str(flexmeasures), "run", "--host", "127.0.0.1", "--port", str(port), "--no-reload", "--no-debugger"],
            run_dir / "server.log",
            env,
            run_dir,
        )
        procs["worker"] = spawn(
            [str(flexmeasures), "jobs", "run-worker", "--queue", "scheduling", "--name", worker_name],
            run_dir / "worker.log",
            env,
            run_dir,
        )
        state["pids"] = {name: proc.pid for name, proc in procs.items()}
        write_state(run_dir, state)
        if redis_conf["claimed"]:
            update_redis_claim(args.redis_host, args.redis_port, redis_conf["db"], run_dir, procs["server"].pid)
        say(f"server (pid {procs['server'].pid}) on {base_url} and scheduling worker (pid {procs['worker'].pid}) starting")

        deadline = time.monotonic() + args.ready_timeout
        versions = None
        worker_ready = False
        while time.monotonic() < deadline and not (versions and worker_ready):
            for name, proc in procs.items():
                if proc.poll() is not None:
                    raise StartError(
                        f"the {name} exited with code {proc.returncode} during start-up; "
                        f"{run_dir / (name + '.log')}:\n{log_tail(run_dir / (name + '.log'))}"
                    )
            if versions is None:
                versions = api_versions(base_url)
                if versions:
                    timings["server_ready_s"] = round(time.monotonic() - t, 2)
                    say(f"server answers ({timings['server_ready_s']} s): FlexMeasures {versions.get('flexmeasures_version')}")
            if not worker_ready and worker_registered(redis_conf, worker_name):
                worker_ready = True
                timings["worker_ready_s"] = round(time.monotonic() - t, 2)
                say(f"worker {worker_name} listens on the scheduling queue ({timings['worker_ready_s']} s)")
            time.sleep(0.2)
        if not versions:
            raise StartError(
                f"the server did not answer {base_url}/api/ within {args.ready_timeout:.0f} s; "
                f"{run_dir / 'server.log'}:\n{log_tail(run_dir / 'server.log')}"
            )
        if not worker_ready:
            raise StartError(
                f"the worker did not register within {args.ready_timeout:.0f} s; "
                f"{run_dir / 'worker.log'}:\n{log_tail(run_dir / 'worker.log')}"
            )
        state["flexmeasures_version"] = versions.get("flexmeasures_version")
        timings["total_s"] = round(time.monotonic() - began, 2)
        if args.watch_pid:
            watchdog = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), "watch", "--run-dir", str(run_dir), "--pid", str(args.watch_pid)],
                stdin=subprocess.DEVNULL,
                stdout=open(run_dir / "watchdog.log", "ab"),  # noqa: SIM115 - handed to the child
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            state["pids"]["watchdog"] = watchdog.pid
        write_state(run_dir, state)
    except BaseException as exc:
        say("start failed: stopping what was started")
        for name, proc in procs.items():
            stop_group(proc.pid, name, timeout=5)
        if redis_conf.get("claimed"):
            release_redis_db(args.redis_host, args.redis_port, redis_conf["db"])
        if created_db and args.drop_database_on_exit:
            drop_database(args.pg_admin, args.database)
        (run_dir / STATE_FILE).unlink(missing_ok=True)
        if isinstance(exc, StartError):
            raise
        raise StartError(f"{type(exc).__name__}: {exc}") from exc

    say(f"ready in {timings['total_s']} s: {base_url} (user {args.email}; password and PIDs in {run_dir / STATE_FILE})")
    if args.print_state:
        print(json.dumps(state), flush=True)
    return 0


def provision(venv: Path, run_dir: Path, env: dict[str, str], args: argparse.Namespace, password: str) -> dict[str, Any]:
    """Run the `provision` step in a FlexMeasures process; the password goes through its stdin."""
    log = run_dir / "provision.log"
    cmd = [
        str(venv / "bin" / "python"),
        str(Path(__file__).resolve()),
        "provision",
        "--account",
        args.account,
        "--email",
        args.email,
        "--username",
        args.username or args.email.split("@")[0],
        "--roles",
        args.roles,
    ]
    with open(log, "ab") as out:
        proc = subprocess.run(
            cmd,
            input=f"{password}\n{password}\n".encode(),
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=run_dir,
            start_new_session=True,  # no controlling terminal: getpass falls back to the piped stdin
            timeout=600,
        )
    marked = [line for line in log.read_text(errors="replace").splitlines() if line.startswith(PROVISIONED_MARK)]
    if proc.returncode != 0 or not marked:
        raise StartError(f"provisioning failed (exit {proc.returncode}); {log}:\n{log_tail(log, 40)}")
    return json.loads(marked[-1][len(PROVISIONED_MARK) :])


def cmd_provision(args: argparse.Namespace) -> int:
    """Inside the FlexMeasures venv: the documented CLI commands, run in one process.

    `flexmeasures db upgrade`, `add initial-structure`, `add account`, `add user` are invoked through
    the `flexmeasures` click group on ONE app (creating a second app in a process fails: rq-dashboard's
    blueprint is module-global), with sys.argv set as the CLI would, since FlexMeasures checks it to
    know it runs as a command. Account and user are created only when missing; an existing user gets
    the given password.
    """
    timings: dict[str, float] = {}
    t = time.monotonic()
    from flask.cli import ScriptInfo
    from flexmeasures.app import create
    from flexmeasures.utils.app_utils import flexmeasures_cli

    # As `flexmeasures db upgrade` would: create() then does not log "schema is not at the Alembic head".
    sys.argv = ["flexmeasures", "db", "upgrade"]
    app = create()
    timings["app_s"] = round(time.monotonic() - t, 2)

    def run(*cli_args: str) -> None:
        t0 = time.monotonic()
        sys.argv = ["flexmeasures", *cli_args]
        print(f"$ flexmeasures {' '.join(cli_args)}", flush=True)
        try:
            flexmeasures_cli.main(
                args=list(cli_args),
                prog_name="flexmeasures",
                standalone_mode=False,
                obj=ScriptInfo(create_app=lambda: app, set_debug_flag=False),
            )
        except SystemExit as exc:
            if exc.code not in (None, 0):
                raise RuntimeError(f"flexmeasures {' '.join(cli_args)} exited with {exc.code}") from exc
        timings[cli_args[-1] if cli_args[0] == "db" else cli_args[1]] = round(time.monotonic() - t0, 2)

    run("db", "upgrade")
    run("add", "initial-structure")

    from flexmeasures.data import db
    from flexmeasures.data.models.user import Account, User
    from sqlalchemy import select

    with app.app_context():
        account_id = db.session.execute(select(Account.id).filter_by(name=args.account)).scalar_one_or_none()
    if account_id is None:
        run("add", "account", "--name", args.account)
        with app.app_context():
            account_id = db.session.execute(select(Account.id).filter_by(name=args.account)).scalar_one()
    with app.app_context():
        user = db.session.execute(select(User).filter_by(email=args.email)).scalar_one_or_none()
        if user is not None:
            from flask_security.utils import hash_password

            password = sys.stdin.readline().rstrip("\n")
            user.password = hash_password(password)
            db.session.commit()
            print(f"user {args.email} exists: password set", flush=True)
            user_id = user.id
        else:
            user_id = None
    if user_id is None:
        run(
            "add", "user", "--username", args.username, "--email", args.email, "--account", str(account_id), "--roles", args.roles
        )
        with app.app_context():
            user_id = db.session.execute(select(User.id).filter_by(email=args.email)).scalar_one()
    timings["total_s"] = round(time.monotonic() - t, 2)
    print(PROVISIONED_MARK + json.dumps({"account_id": account_id, "user_id": user_id, "timings": timings}), flush=True)
    return 0


# --------------------------------------------------------------------------------------------------
# stop, status, watch


def stop_instance(run_dir: Path, drop: bool | None, quiet: bool = False) -> bool:
    """Stop what `run_dir/state.json` names; drop the database if `drop` (None: as start asked)."""
    state = read_state(run_dir)
    if state is None:
        if not quiet:
            say(f"nothing to stop in {run_dir} (no {STATE_FILE})")
        return False
    pids = state.get("pids", {})
    watchdog = pids.get("watchdog")
    if watchdog and watchdog != os.getpid():
        stop_group(watchdog, "watchdog", timeout=3)
    for name in ("server", "worker"):
        if pid_alive(pids.get(name)):
            say(f"stopping the {name} (pid {pids[name]})")
        stop_group(pids.get(name), name)
    if state.get("worker_name"):
        stop_work_horses(state["worker_name"])
    redis_conf = state.get("redis") or {}
    if redis_conf.get("claimed"):
        try:
            release_redis_db(redis_conf["host"], redis_conf["port"], redis_conf["db"])
        except Exception as exc:  # noqa: BLE001 - Redis gone: nothing left to release
            say(f"could not empty Redis database {redis_conf['db']}: {exc}")
    if drop is None:
        drop = bool(state.get("drop_database_on_stop"))
    if drop:
        say(f"dropping PostgreSQL database {state['database']}")
        drop_database(state["pg_admin"], state["database"])
    (run_dir / STATE_FILE).unlink(missing_ok=True)
    say("stopped")
    return True


def cmd_stop(args: argparse.Namespace) -> int:
    """`stop`: end server, worker and watchdog; release Redis; maybe drop the database."""
    stop_instance(args.run_dir.resolve(), True if args.drop_database else None)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """`status`: exit 0 when server and worker run and answer, 1 when not, 3 when stopped."""
    run_dir = args.run_dir.resolve()
    state = read_state(run_dir)
    if state is None:
        print(f"not running (no {run_dir / STATE_FILE})")
        return 3
    pids = state.get("pids", {})
    alive = {name: pid_alive(pid) for name, pid in pids.items()}
    versions = api_versions(state["base_url"])
    worker = False
    try:
        worker = worker_registered(state["redis"], state.get("worker_name", ""))
    except Exception:  # noqa: BLE001 - Redis down shows as "worker not registered"
        pass
    if args.json:
        print(json.dumps({**state, "alive": alive, "answers": bool(versions), "worker_registered": worker}, indent=2))
    else:
        answers = "answers" if versions else "DOES NOT ANSWER"
        print(f"FlexMeasures {state.get('flexmeasures_version', '?')} at {state['base_url']}: {answers}")
        for name, pid in pids.items():
            print(f"  {name:9} pid {pid:<8} {'running' if alive[name] else 'NOT RUNNING'}")
        print(f"  worker    {state.get('worker_name')} {'registered on scheduling' if worker else 'NOT REGISTERED'}")
        print(f"  database  {state['database_url']}")
        print(f"  redis     {state['redis']['host']}:{state['redis']['port']} db {state['redis']['db']}")
        print(f"  user      {state['email']} (account {state['account']!r}, id {state.get('account_id')})")
        print(f"  map tiles {state.get('tile_url', '?')}")
        print(f"  logs      {run_dir}/server.log, worker.log, provision.log")
    healthy = versions and worker and alive.get("server") and alive.get("worker")
    return 0 if healthy else 1


def cmd_watch(args: argparse.Namespace) -> int:
    """Stop the instance in `run_dir` once process `pid` is gone (pytest killed, CI timeout)."""
    run_dir = args.run_dir.resolve()
    while True:
        if read_state(run_dir) is None:
            return 0  # stopped the normal way
        if not pid_alive(args.pid):
            say(f"process {args.pid} is gone: stopping the FlexMeasures instance it started")
            stop_instance(run_dir, None, quiet=True)
            return 0
        time.sleep(1.0)


# --------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Command line entry point (through scripts/flexmeasures.sh)."""
    parser = argparse.ArgumentParser(prog="scripts/flexmeasures.sh", description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV, help="the FlexMeasures venv (default: %(default)s)")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_run_dir(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--run-dir", type=Path, default=DEFAULT_RUN_DIR, help="PIDs, logs, state.json (default: %(default)s)")
        return p

    start = with_run_dir(sub.add_parser("start", help="bring FlexMeasures up"))
    start.add_argument("--port", type=int, default=int(os.environ.get("CARIFLEX_FM_PORT", "0")), help="default: a free port")
    start.add_argument("--database", default=os.environ.get("CARIFLEX_FM_DATABASE", "cariflex_flexmeasures"))
    start.add_argument(
        "--pg-admin", default=DEFAULT_PG_ADMIN, help="URL of an existing database on the server (default: %(default)s)"
    )
    start.add_argument("--redis-host", default=os.environ.get("CARIFLEX_FM_REDIS_HOST", "127.0.0.1"))
    start.add_argument("--redis-port", type=int, default=int(os.environ.get("CARIFLEX_FM_REDIS_PORT", "6379")))
    start.add_argument(
        "--redis-db", default=os.environ.get("CARIFLEX_FM_REDIS_DB", "auto"), help="a number, or auto (a free one of 1..15)"
    )
    start.add_argument("--account", default="Cariflex")
    start.add_argument("--email", default=os.environ.get("CARIFLEX_FM_EMAIL", "cariflex-ven@example.com"))
    start.add_argument("--username", default=None, help="default: the e-mail's local part")
    start.add_argument("--password", default=None, help="default: $CARIFLEX_FM_PASSWORD or a random one (see state.json)")
    start.add_argument("--roles", default="account-admin")
    start.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    start.add_argument(
        "--tile-url",
        default=os.environ.get("CARIFLEX_FM_TILE_URL") or DEFAULT_TILE_URL,
        help="tile URL template of the UI's maps, e.g. a self-hosted tile server (default: $CARIFLEX_FM_TILE_URL or %(default)s)",
    )
    start.add_argument("--ready-timeout", type=float, default=120.0)
    start.add_argument("--watch-pid", type=int, default=None, help="stop everything (as `stop` would) when this process dies")
    start.add_argument("--drop-database-on-exit", action="store_true", help="`stop` and the watchdog drop the database")
    start.add_argument("--print-state", action="store_true", help="print state.json as the last line")
    start.set_defaults(func=cmd_start)

    stop = with_run_dir(sub.add_parser("stop", help="stop server and worker"))
    stop.add_argument("--drop-database", action="store_true")
    stop.set_defaults(func=cmd_stop)

    status = with_run_dir(sub.add_parser("status", help="what runs; exit 0 when healthy, 1 when not, 3 when stopped"))
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)

    provision_p = sub.add_parser("provision", help=argparse.SUPPRESS)
    for option in ("--account", "--email", "--username", "--roles"):
        provision_p.add_argument(option, required=True)
    provision_p.set_defaults(func=cmd_provision)

    watch = with_run_dir(sub.add_parser("watch", help=argparse.SUPPRESS))
    watch.add_argument("--pid", type=int, required=True)
    watch.set_defaults(func=cmd_watch)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except StartError as exc:
        print(f"error: [flexmeasures] {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
