"""`run_script` (the demo's and the tests' runner of scripts/flexmeasures.sh): progress echoed line by
line, failures and timeouts raised with the script's last output, a silent stuck step stopped too."""

from pathlib import Path

import pytest

from demo.flexmeasures_server import run_script


def _script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "step.sh"
    path.write_text(body)
    return path


def test_progress_is_echoed_as_it_comes(tmp_path: Path) -> None:
    seen: list[str] = []
    run_script(["a", "b"], seen.append, 30, script=_script(tmp_path, 'echo "==> step $1"\necho "==> step $2"\n'))
    assert seen == ["==> step a", "==> step b"]


def test_a_failing_step_raises_with_its_exit_code_and_output(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"failed \(exit 3\):\nno database"):
        run_script([], lambda _line: None, 30, script=_script(tmp_path, "echo 'no database'\nexit 3\n"))


def test_a_silent_stuck_step_is_stopped_at_its_timeout_children_included(tmp_path: Path) -> None:
    # the child (sleep) holds the output pipe: killing bash alone would leave the reader waiting; were the
    # timeout not to work, the script would end normally after 600 s and pytest.raises would fail
    script = _script(tmp_path, "echo '==> downloading'\nsleep 600 &\nwait\n")
    with pytest.raises(RuntimeError, match=r"did not finish within 1 s and was stopped; its output ends:\n==> downloading"):
        run_script([], lambda _line: None, 1, script=script)
