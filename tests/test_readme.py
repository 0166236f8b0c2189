"""README.md stays true to the code: every `cariflex` command it shows parses with the real command-line
parser (options, choices and sub-commands exist), and every `make` target, script and document it
names exists. (The demo itself is run by tests/test_demo.py; `make test` is what CI runs.)"""

import re
import shlex
from pathlib import Path

import pytest

from cariflex.cli import parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _shell_lines() -> list[str]:
    """The commands of the README's sh blocks: continuations joined, comments and blank lines dropped."""
    lines: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", README, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words:
                lines.append(" ".join(shlex.quote(w) for w in words))
    return lines


COMMANDS = _shell_lines()
CARIFLEX = [line for line in COMMANDS if line.startswith(".venv/bin/cariflex ")]


def test_the_readme_shows_commands() -> None:
    assert len(CARIFLEX) >= 20 and any(line.startswith("make demo") for line in COMMANDS)


@pytest.mark.parametrize("line", CARIFLEX)
def test_each_cariflex_command_parses(line: str) -> None:
    try:
        args = parser().parse_args(shlex.split(line)[1:])
    except SystemExit as exc:  # argparse's way of refusing
        pytest.fail(f"README command does not parse (exit {exc.code}): {line}")
    assert callable(args.run)


def test_every_make_target_and_script_exists() -> None:
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), flags=re.M))
    named = {word for line in COMMANDS if line.startswith("make ") for word in line.split()[1:2]}
    named |= set(re.findall(r"`make ([\w-]+)", README))
    assert named and named <= targets, named - targets
    scripts = set(re.findall(r"(scripts/[\w./-]+\.(?:sh|py))", README))
    assert scripts and all((ROOT / s).is_file() for s in scripts), scripts


def test_every_linked_document_exists() -> None:
    links = set(re.findall(r"\]\(((?:docs|config)/[^)#]+)\)", README)) | set(re.findall(r"`((?:config|docs)/[\w./-]+)`", README))
    missing = sorted(link for link in links if not (ROOT / link).exists())
    assert links and not missing, missing
