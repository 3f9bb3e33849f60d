"""Every notebook runs top to bottom on a real kernel and shows what its text says."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
EXPECTED = {
    "sequence_timeline.ipynb": [
        "1  automated_email  scheduled    Tue 2026-05-26 16:30 New York",
        "2  task             in_progress  Wed 2026-05-27 09:00 New York",
        "state: finished",
    ],
}


def outputs(notebook: nbformat.NotebookNode) -> str:
    return "\n".join(
        out.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_and_shows_what_it_says(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    text = outputs(notebook)
    assert "Traceback" not in text
    for line in EXPECTED.get(path.name, []):
        assert line in text
