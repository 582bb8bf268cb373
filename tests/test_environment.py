"""The environment is exactly requirements/constraints.txt: every installed package pinned, at its pin, none missing.

The oracle is ``importlib.metadata`` (what the running interpreter has installed) against this file's own parser of
the constraints file, independent of the set-up's check. The project itself (editable) is the one package left out.
"""
import importlib.metadata
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / 'requirements' / 'constraints.txt'
SETUP = ROOT / 'tools' / 'setup_env.sh'
PROJECT = 'mmdet-ghostnet'

_NAME = r'[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?'
_VERSION = r'[0-9][A-Za-z0-9.+!_-]*'
_PIN = re.compile(rf'^(?P<name>{_NAME})==(?P<version>{_VERSION})$')


def normalize(name: str) -> str:
    """PEP 503: case and runs of '-', '_', '.' do not matter."""
    return re.sub(r'[-_.]+', '-', name).lower()


def parse_constraints(text: str) -> dict:
    """``name==version`` lines, '#' comments and blank lines; anything else (a range, no version, a marker, a URL,
    the same package twice) is an error naming its line."""
    pins = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split('#', 1)[0].strip()
        if not line:
            continue
        match = _PIN.match(line)
        if match is None:
            raise ValueError(f'line {number}: {raw.strip()!r} is not an exact pin name==version')
        name = normalize(match['name'])
        if name in pins:
            raise ValueError(f'line {number}: {match["name"]} is pinned twice')
        pins[name] = match['version']
    return pins


def installed() -> dict:
    """Every distribution of the running interpreter's environment, by normalized name."""
    dists = {}
    for dist in importlib.metadata.distributions():
        dists.setdefault(normalize(dist.metadata['Name']), dist.version)
    return dists


def compare(pins: dict, have: dict) -> list:
    have = {name: version for name, version in have.items() if name != PROJECT}
    problems = [f'{n} {v} is installed but not pinned' for n, v in sorted(have.items()) if n not in pins]
    problems += [f'{n} is installed at {have[n]}, pinned {v}' for n, v in sorted(pins.items())
                 if n in have and have[n] != v]
    problems += [f'{n}=={v} is pinned but not installed' for n, v in sorted(pins.items()) if n not in have]
    return problems


def test_parse_constraints():
    text = '# comment\n\nNumPy==2.4.6\nopencv_python==4.11.0.86  # why\nzope.interface==7.2\n'
    assert parse_constraints(text) == {'numpy': '2.4.6', 'opencv-python': '4.11.0.86', 'zope-interface': '7.2'}


@pytest.mark.parametrize('line', ['numpy>=2.0', 'numpy', 'numpy==', '==2.4.6', 'numpy==2.4.6; python_version>"3"',
                                  'numpy @ file:///tmp/numpy.whl', '-e .', 'numpy==2.4.6 scipy==1.0', 'numpy~=2.4'])
def test_parse_refuses_a_bad_line(line):
    with pytest.raises(ValueError, match=r'line 2: .*(not an exact pin)'):
        parse_constraints(f'torch==2.14.1\n{line}\n')


def test_parse_refuses_a_package_pinned_twice():
    with pytest.raises(ValueError, match='line 2: Pillow is pinned twice'):
        parse_constraints('pillow==13.0.0\nPillow==13.0.0\n')


def test_compare_names_each_kind_of_difference():
    pins = {'numpy': '2.4.6', 'scipy': '1.16.0', 'torch': '2.14.1'}
    have = {'numpy': '2.4.6', 'scipy': '1.17.0', 'opencv-python': '5.1.0.95', PROJECT: '0.1.0'}
    assert compare(pins, have) == ['opencv-python 5.1.0.95 is installed but not pinned',
                                   'scipy is installed at 1.17.0, pinned 1.16.0',
                                   'torch==2.14.1 is pinned but not installed']


def test_the_constraints_file_parses_and_pins_the_stack():
    pins = parse_constraints(CONSTRAINTS.read_text())
    assert {n: pins.get(n) for n in ('torch', 'torchvision', 'mmcv', 'mmengine', 'mmdet')} == {
        'torch': '2.14.1', 'torchvision': '0.29.1', 'mmcv': '2.1.0', 'mmengine': '0.10.7', 'mmdet': '3.3.0'}
    assert PROJECT not in pins, 'the editable project itself is not pinned'
    # what the set-up itself needs and pip freeze hides without --all
    assert {'pip', 'setuptools', 'wheel'} <= set(pins)


def test_the_running_environment_is_exactly_the_pins():
    problems = compare(parse_constraints(CONSTRAINTS.read_text()), installed())
    assert not problems, (f'{sys.prefix} differs from {CONSTRAINTS.relative_to(ROOT)} (to install the pins: '
                          f'rm {sys.prefix}/.setup-stamp; bash tools/setup_env.sh):\n  ' + '\n  '.join(problems))


def test_torch_is_the_cuda_build_the_setup_plans_with():
    """setup_env.sh --plan decides on CUDA ops from TORCH_CUDA without torch; it must be the pinned torch's."""
    torch = pytest.importorskip('torch')
    stated = re.search(r'^TORCH_CUDA="([0-9.]+)"$', SETUP.read_text(), re.M)
    assert stated is not None, 'tools/setup_env.sh sets no TORCH_CUDA="..."'
    assert torch.version.cuda == stated[1]
