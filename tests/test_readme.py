"""The README's examples for scikit-learn and for use outside Python run as they are written,
in a folder holding the `model.npz` that `digitnet train` makes, with MNIST from
../shared/data/mnist, and print what their comments say."""

import re
import shlex

import pytest

from digitnet.cli import main

from .conftest import MNIST, ROOT

SECTIONS = ("Use it from scikit-learn", "Use it outside Python")


def blocks(section):
    """(language, code) of each fenced block in the README's section ``section``."""
    text = (ROOT / "README.md").read_text()
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```(\w*)\n(.*?)^```$", body, flags=re.S | re.M)


def expected_prints(code):
    """What each print(...) line's comment says it prints."""
    return [line.split("  # ", 1)[1].strip() for line in code.splitlines()
            if line.startswith("print(") and "  # " in line]


def same(printed, said):
    """The printed line is what the comment says; percentages (accuracies, which move with
    the machine's float rounding) within one point."""
    percent = r"(\d+(?:\.\d+)?) ?%"
    if re.sub(percent, "%", printed) != re.sub(percent, "%", said):
        return False
    return all(abs(float(a) - float(b)) <= 1 for a, b in
               zip(re.findall(percent, printed), re.findall(percent, said), strict=True))


def run_shell(code, pyproject):
    for line in code.strip().splitlines():
        words = shlex.split(line)
        if words[:2] == ["pip", "install"]:  # the extras it names exist (the tests have them installed)
            for extra in re.findall(r"digitnet\[(\w+)\]", line):
                assert f"\n{extra} = [" in pyproject, line
        else:
            assert words[0] == "digitnet" and main(words[1:]) == 0, line


@pytest.mark.parametrize("section", SECTIONS)
def test_the_readmes_examples_run_and_print_what_they_say(section, default_model, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIGITNET_DATA", str(MNIST))
    (tmp_path / "model.npz").write_bytes(default_model.read_bytes())
    pyproject = (ROOT / "pyproject.toml").read_text()
    found = blocks(section)
    assert [language for language, _ in found].count("python") >= 2
    namespace = {}
    for language, code in found:
        if language == "python":
            exec(compile(code, f"README.md, {section}", "exec"), namespace)
            printed = capsys.readouterr().out.splitlines()
            said = expected_prints(code)
            assert len(printed) == len(said) and all(map(same, printed, said)), (printed, said)
        else:
            run_shell(code, pyproject)
            capsys.readouterr()
