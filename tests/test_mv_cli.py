"""`cariflex baseline` on load-curve files: the two file shapes, the methods by name, errors that name the line."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cariflex.cli import main
from mapping.curtailment.meter_file import MeterFileRefused, parse_load_curves

LOCAL = "-04:00"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["baseline", *args])
    out, err = capsys.readouterr()
    return code, out, err


def cariflex_file(tmp_path: Path, rows: list[tuple[str, str, str, float]], name: str = "curve.csv") -> Path:
    path = tmp_path / name
    path.write_text("delivery_point,start,step,power_kw\n" + "".join(f"{p},{s},{st},{kw}\n" for p, s, st, kw in rows))
    return path


def test_enedis_style_file_30_minute_steps_stamped_at_their_end(tmp_path, capsys):
    # Horodate marks the END of each 30-minute step, Valeur in W with a decimal comma: 16:30–17:00 → 10 kW ... the
    # hour before an 18:00 event is 17:00–18:00 = 12 kW; the event hour reads 8 kW → 4 kW achieved, 1 kWh a quarter
    lines = ["Identifiant PRM;Date de début;Date de fin;Grandeur physique;Unité;Horodate;Valeur;Nature;Pas"]
    for end, watts, nature in [
        ("17:00", "10000,0", "R"),
        ("17:30", "12000", "R"),
        ("18:00", "12000", "E"),
        ("18:30", "8000", "R"),
        ("19:00", "8000", "R"),
    ]:
        lines.append(f"25884515170669;2026-11-26;2026-11-27;PA;W;2026-11-26T{end}:00{LOCAL};{watts};{nature};PT30M")
    path = tmp_path / "enedis.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = run(
        capsys,
        "--meter",
        str(path),
        "--start",
        f"2026-11-26T18:00:00{LOCAL}",
        "--end",
        f"2026-11-26T19:00:00{LOCAL}",
        "--method",
        "rectangle",
    )
    assert (code, err) == (0, "")
    header, *rows = list(csv.reader(io.StringIO(out)))
    assert header[:9] == [
        "delivery_point",
        "interval_start",
        "interval_end",
        "baseline_kw",
        "unadjusted_baseline_kw",
        "measured_kw",
        "achieved_kw",
        "achieved_kwh",
        "flags",
    ]
    assert [r[1] for r in rows] == [
        "2026-11-26T22:00:00Z",
        "2026-11-26T22:15:00Z",
        "2026-11-26T22:30:00Z",
        "2026-11-26T22:45:00Z",
    ]
    assert {(r[3], r[5], r[6], r[7]) for r in rows} == {("12", "8", "4", "1")}
    assert {r[8] for r in rows} == {"estimated"}  # the 17:30–18:00 step was an estimate, and the baseline is built on it
    assert rows[0][-1].startswith("rectangle: mean of 60 min before the notice")


def test_x_of_y_by_name_with_an_adjustment_on_a_10_minute_curve(tmp_path, capsys):
    # ten weekdays before Thursday 26 November 2026 at 2 kW all day, 10-minute steps; the event day 2.4 kW from 14:00
    start = datetime(2026, 11, 12, tzinfo=UTC)
    rows = []
    for n in range(15 * 144):
        at = start + n * timedelta(minutes=10)
        local = at.astimezone(datetime.now().astimezone().tzinfo).astimezone(UTC)
        kw = 2.4 if at >= datetime(2026, 11, 26, 18, tzinfo=UTC) else 2.0
        rows.append(("PDL-1", local.isoformat(), "PT10M", kw))
    path = cariflex_file(tmp_path, rows)
    args = [
        "--meter",
        str(path),
        "--start",
        "2026-11-26T22:00:00Z",
        "--end",
        "2026-11-26T23:00:00Z",
        "--method",
        "x-of-y",
        "--x",
        "4",
        "--y",
        "5",
    ]
    code, out, _ = run(
        capsys,
        *args,
        "--adjustment",
        "multiplicative",
        "--adjustment-minutes",
        "120",
        "--adjustment-gap-minutes",
        "60",
        "--adjustment-cap",
        "0.1",
        "--format",
        "json",
    )
    assert code == 0
    document = json.loads(out)
    # unadjusted 2 kW; the window (18:00–20:00 UTC) read 2.4 → ratio 1.2, capped at 1.1 → 2.2 kW; measured 2.4 → −0.2
    assert {i["baseline_kw"] for i in document["intervals"]} == {2.2}
    assert {i["unadjusted_baseline_kw"] for i in document["intervals"]} == {2.0}
    assert document["achieved_kwh"] == pytest.approx(-0.2)
    assert "multiplicative day-of adjustment" in document["method"] and "capped at ±10%" in document["method"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "delivery_point,start,step,power_kw\nA,2026-11-26T18:00:00,PT10M,1\n",
            "line 2, start: '2026-11-26T18:00:00' has no UTC offset",
        ),
        ("delivery_point,start,step,power_kw\nA,2026-11-26T18:00:00Z,PT7M,1\n", "line 2, step: 'PT7M' is not a step"),
        ("delivery_point,start,step,power_kw\nA,2026-11-26T18:00:00Z,PT10M,lots\n", "line 2, power_kw: 'lots' is not a number"),
        (
            "delivery_point,start,step,power_kw\nA,2026-11-26T18:00:00Z,PT10M,nan\n",
            "line 2, power_kw: 'nan' is not a finite number",
        ),
        ("delivery_point,start,step,power_w\nA,2026-11-26T18:00:00Z,PT10M,1e39\n", "line 2, power_w"),
        (
            "delivery_point,start,step,power_kw\nA,2026-11-26T18:00:00Z,PT30M,1\nA,2026-11-26T18:10:00Z,PT10M,1\n",
            "line 3: A: this step starts",
        ),
        (
            "delivery_point,start,step,power_kw\nA,2026-11-26T18:00:00Z,PT10M,1\nA,2026-11-26T14:00:00-04:00,PT10M,2\n",
            "line 3: A already has a step starting",
        ),
        ("delivery_point,when,step,power_kw\nA,2026-11-26T18:00:00Z,PT10M,1\n", "line 1: no column for the time"),
        ("delivery_point,start,step,power_kw\nA,2026-11-26T18:00:00Z,PT10M\n", "line 2: 3 fields where the header has 4"),
        ("", "line 1: the file is empty"),
    ],
)
def test_a_bad_file_is_refused_with_its_line_and_column(tmp_path, capsys, text, message):
    with pytest.raises(MeterFileRefused, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_load_curves(text)
    path = tmp_path / "bad.csv"
    path.write_text(text)
    code, out, err = run(
        capsys, "--meter", str(path), "--start", "2026-11-26T22:00:00Z", "--end", "2026-11-26T23:00:00Z", "--method", "rectangle"
    )
    assert (code, out) == (2, "")
    assert err.startswith("error: line ") and message.split(":")[0] in err


def test_the_delivery_point_is_named_when_the_file_holds_several(tmp_path, capsys):
    path = cariflex_file(tmp_path, [("A", "2026-11-26T17:30:00Z", "PT30M", 1.0), ("B", "2026-11-26T17:30:00Z", "PT30M", 2.0)])
    base = [
        "--meter",
        str(path),
        "--start",
        "2026-11-26T18:00:00Z",
        "--end",
        "2026-11-26T18:30:00Z",
        "--method",
        "rectangle",
        "--minutes",
        "30",
    ]
    code, _, err = run(capsys, *base)
    assert code == 2 and "--delivery-point: the file holds 2 delivery points (A, B)" in err
    code, out, _ = run(capsys, *base, "--delivery-point", "B")
    assert code == 0 and {line.split(",")[3] for line in out.splitlines()[1:]} == {"2"}
    # nothing measured during the event: the achieved cells are empty and flagged missing, never 0
    assert {line.split(",")[6] for line in out.splitlines()[1:]} == {""}
    assert all("missing" in line.split(",")[8] for line in out.splitlines()[1:])


def test_control_group_by_name(tmp_path, capsys):
    rows = []
    for point, before, during in [("CALLED", 2.4, 2.1), ("C1", 2.4, 2.7), ("C2", 2.5, 2.8), ("C3", 2.6, 2.9)]:
        rows += [(point, "2026-11-26T20:00:00Z", "PT60M", before), (point, "2026-11-26T22:00:00Z", "PT60M", during)]
    path = cariflex_file(tmp_path, rows)
    args = [
        "--meter",
        str(path),
        "--delivery-point",
        "CALLED",
        "--start",
        "2026-11-26T22:00:00Z",
        "--end",
        "2026-11-26T23:00:00Z",
    ]
    code, out, _ = run(
        capsys,
        *args,
        "--method",
        "control-group",
        "--control",
        "C1",
        "--control",
        "C2",
        "--control",
        "C3",
        "--adjustment",
        "additive",
        "--adjustment-minutes",
        "60",
        "--adjustment-cap",
        "none",
    )
    assert code == 0
    assert {round(float(line.split(",")[6]), 6) for line in out.splitlines()[1:]} == {0.6}
    code, _, err = run(capsys, *args, "--method", "control-group")
    assert code == 2 and "controls" in err
