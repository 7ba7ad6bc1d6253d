"""The README's examples for scikit-learn and for use outside Python run as they are written,
in a folder holding the `model.npz` that `digitnet train` makes, with MNIST from
../shared/data/mnist, and print what their comments say: here, and in a fresh venv where
the wheel is installed with the extra the section's `pip install` names, and nothing else."""

import importlib.util
import re
import shlex

import pytest

from digitnet.cli import main

from .conftest import MNIST, ROOT
from .test_packaging import dependencies, pip, venv

SECTIONS = ("Use it from scikit-learn", "Use it outside Python")
EXTRAS = {"Use it from scikit-learn": "sklearn", "Use it outside Python": "onnx"}


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


@pytest.fixture(scope="module")
def wheel(built):
    return built[0]


def pins():
    """requirements-test.txt's versions (with their markers: the lock pins some versions per Python)
    without their hashes: pip with a constraints file of hashes would ask for a hash of the wheel too."""
    lock = (ROOT / "requirements-test.txt").read_text()
    return "\n".join(re.findall(r"^([A-Za-z0-9_.-]+==[^\\\n]+?) *\\?$", lock, flags=re.M)) + "\n"


def imported(code):
    """The top-level modules a Python block imports, digitnet's own left out."""
    names = re.findall(r"^(?:from|import) (\w+)", code, flags=re.M)
    return sorted(set(names) - {"digitnet", "json", "math"})


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("section", SECTIONS)
def test_each_extra_brings_what_its_readme_example_needs(section, wheel, default_model, tmp_path):
    """In a venv that sees the core's dependencies alone, `pip install 'digitnet[EXTRA]'` (the
    wheel; what the extra adds comes from PyPI, at the lock's versions) must bring every module
    the section's examples import, and the examples must run and print what they say."""
    extra = EXTRAS[section]
    run, _, env = venv(tmp_path, sees=dependencies(wheel) | {"pip"})
    env["DIGITNET_DATA"] = str(MNIST)
    found = blocks(section)
    modules = sorted({m for language, code in found if language == "python" for m in imported(code)})
    assert modules, section
    missing = f"import {', '.join(modules)}"
    assert run("python", "-c", missing, check=False).returncode != 0  # not there before the extra
    (tmp_path / "pins.txt").write_text(pins())
    # --no-compile: byte-compiling all of scikit-learn (2 s) is no part of what the extra brings
    pip(run, "install", "--no-compile", "--constraint", tmp_path / "pins.txt", f"{wheel}[{extra}]")
    run("python", "-c", missing)
    work = tmp_path / "work"
    work.mkdir()
    (work / "model.npz").write_bytes(default_model.read_bytes())
    for k, (language, code) in enumerate(found):
        if language == "python":
            (work / f"example-{k}.py").write_text(code)
            printed = run("python", f"example-{k}.py", cwd=work).stdout.splitlines()
            said = expected_prints(code)
            assert len(printed) == len(said) and all(map(same, printed, said)), (printed, said)
            continue
        for line in code.strip().splitlines():
            words = shlex.split(line)
            if words[:2] == ["pip", "install"]:
                assert re.findall(r"digitnet\[(\w+)\]", line) == [extra], line  # what was installed above
            else:
                run(*words, cwd=work)


def figures_script():
    """bench/figures.py, which draws the README's pictures."""
    spec = importlib.util.spec_from_file_location("figures_bench", ROOT / "bench" / "figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_picture_in_the_readme_is_drawn_by_bench_figures_or_says_where_it_comes_from():
    script, readme = figures_script(), (ROOT / "README.md").read_text()
    shown = re.findall(r"!\[[^\]]*\]\(docs/([^)]+)\)", readme)
    assert len(shown) >= 10 and all((ROOT / "docs" / name).is_file() for name in shown)
    assert set(shown) == set(script.FIGURES) | set(script.NOT_MADE)  # and nothing drawn that it does not show
    assert not set(script.FIGURES) & set(script.NOT_MADE)
    for name in script.FIGURES:  # the command the README shows beside it is the one that draws it
        assert f"digitnet {' '.join(script.command(name))}" in readme, name


def test_bench_figures_draws_the_readmes_pictures(default_model, tmp_path):
    from PIL import Image

    drawn = ["weights.png", "noise.png", "handwritten-3-seen.png"]
    figures_script().main([*drawn, "--model", str(default_model), "--out", str(tmp_path)])
    for name in drawn:
        with Image.open(tmp_path / name) as new, Image.open(ROOT / "docs" / name) as shown:
            assert new.size == shown.size, name
