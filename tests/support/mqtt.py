"""MQTT helpers for tests: the machine's broker, private brokers the tests may kill, publishing."""

import json
import socket
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt

from mapping.dispatch import Ack, Setpoints, ack_topic, decode_setpoints, encode_ack, setpoint_topic

ROOT = Path(__file__).resolve().parent.parent.parent
BROKER_PORT = 1883


def port_open(port: int) -> bool:
    """Something listens on 127.0.0.1:port."""
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def ensure_machine_broker() -> None:
    """The machine's broker on 1883 (started like `make services` when missing)."""
    if not port_open(BROKER_PORT):
        subprocess.run(["bash", str(ROOT / "scripts/ensure-services.sh"), "mosquitto"], check=True, timeout=120)


def free_port() -> int:
    """An ephemeral port free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def private_broker_conf(directory: Path, port: int) -> Path:
    """A mosquitto configuration on loopback:port, anonymous, nothing persisted."""
    conf = directory / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    return conf


def start_broker(conf: Path) -> subprocess.Popen:
    """A mosquitto of our own (never the machine's broker): the test kills it, never anything else."""
    return subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill(process: subprocess.Popen) -> None:
    """SIGKILL a private broker and reap it."""
    process.kill()
    process.wait(timeout=10)


def payload(value: object, unit: str = "kW", at: datetime | None = None) -> bytes:
    """A telemetry message body: {"ts", "value", "unit"}."""
    return json.dumps({"ts": (at or datetime.now(UTC)).isoformat().replace("+00:00", "Z"), "value": value, "unit": unit}).encode()


async def publish(messages: list[tuple[str, bytes]], port: int = BROKER_PORT) -> None:
    """Publish (topic, payload) pairs at QoS 1."""
    async with aiomqtt.Client("127.0.0.1", port, timeout=10) as client:
        for topic, body in messages:
            await client.publish(topic, body, qos=1)


class SetpointDevice:
    """A device without S2 (docs/ven.md, "Dispatch"): subscribes to its setpoint topic and acknowledges each schedule
    it receives with `answer` (None: stays silent); `run()` until cancelled."""

    def __init__(self, site: str, kind: str, port: int = BROKER_PORT, answer: str | None = "accepted") -> None:
        self.site, self.kind, self.port, self.answer = site, kind, port, answer
        self.received: list[Setpoints] = []

    async def run(self) -> None:
        async with aiomqtt.Client("127.0.0.1", self.port) as client:
            await client.subscribe(setpoint_topic(self.site, self.kind), qos=1)
            async for message in client.messages:
                setpoints = decode_setpoints(bytes(message.payload))  # type: ignore[arg-type]
                self.received.append(setpoints)
                if self.answer is not None:
                    reason = "beyond my power" if self.answer == "rejected" else ""
                    ack = encode_ack(Ack(setpoints.schedule_id, self.answer, reason))
                    await client.publish(ack_topic(self.site, self.kind), ack, qos=1)
