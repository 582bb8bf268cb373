"""Every relative link of the README and docs/*.md leads to a file that exists, and an anchor to one of its headings
(GitHub's heading ids: lower case, punctuation dropped, spaces as hyphens)."""
import re
from pathlib import Path

import pytest

from tool_runs import REPO

PAGES = [REPO / 'README.md', *sorted((REPO / 'docs').glob('*.md'))]
# the docs are a reference, not a notebook: their sizes are held (issue 38)
MAX_DOCS_LINES, MAX_README_LINES = 1600, 250
FENCED = re.compile(r'```.*?```', flags=re.S)
LINK = re.compile(r'\]\(([^)\s]+)\)')


def heading_ids(page: Path) -> set:
    """The anchors GitHub gives the headings of ``page`` (fenced code skipped)."""
    text = FENCED.sub('', page.read_text(encoding='utf-8'))
    headings = (line.lstrip('#').strip().lower() for line in text.splitlines() if line.startswith('#'))
    return {re.sub(r'[^\w\- ]', '', heading).replace(' ', '-') for heading in headings}


def relative_links(page: Path) -> list:
    """The links of ``page`` that are neither URLs nor inside fenced code."""
    links = LINK.findall(FENCED.sub('', page.read_text(encoding='utf-8')))
    return [link for link in links if not re.match(r'[a-z]+:', link)]


def test_heading_ids_follow_github():
    page = REPO / 'docs' / 'training.md'
    assert 'checkpoints-and-torch--26' in heading_ids(page)  # '### Checkpoints and torch ≥ 2.6'


@pytest.mark.parametrize('page', PAGES, ids=[str(page.relative_to(REPO)) for page in PAGES])
def test_relative_links_resolve(page):
    broken = []
    for link in relative_links(page):
        path, _, anchor = link.partition('#')
        target = (page.parent / path).resolve() if path else page
        if not target.exists():
            broken.append(f'{link}: no such file')
        elif anchor and target.suffix == '.md' and anchor not in heading_ids(target):
            broken.append(f'{link}: no heading #{anchor} in {target.relative_to(REPO)}')
    assert not broken, broken


def test_the_docs_stay_a_reference_in_size():
    lines = {page.relative_to(REPO): len(page.read_text(encoding='utf-8').splitlines()) for page in PAGES}
    readme = lines.pop(Path('README.md'))
    assert readme <= MAX_README_LINES, f'README.md has {readme} lines, more than {MAX_README_LINES}'
    assert sum(lines.values()) <= MAX_DOCS_LINES, f'docs/*.md have {sum(lines.values())} lines: {lines}'
