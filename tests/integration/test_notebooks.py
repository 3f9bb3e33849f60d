"""Every notebook runs top to bottom on a real kernel, shows what its text says, and
shows at least one picture."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

FOLDER = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb"))
EXPECTED = {
    "01_timeline_basics.ipynb": [
        "Sat 07 Mar 10:00 + 1 weekday = Tue 10 Mar 10:00",
        "+1 weekday  Mon 16:00 EDT  =  Mon 20:00 UTC",
        "+72 hours   Mon 17:00 EDT  =  Mon 21:00 UTC",
        "Sat 02:30 + 1 weekday = Sun 03:30 EDT",
        "holidays=US: Fri 22 May 11:00, Tue 26 May 11:00, Wed 27 May 11:00",
        "send_window=09:00-17:00: Wed 15:00, Thu 09:00, Fri 09:00",
        "1  automated_email  scheduled    Tue 2026-05-26 16:30 New York",
        "2  task             in_progress  Wed 2026-05-27 09:00 New York",
        "state: finished",
    ],
    "02_lifecycles.ipynb": [
        "blocked                --resume--> active",
        "refused: enrollment cannot resume from state 'finished'",
        "second lead: state blocked (sendout_limited)",
        "Tuesday, sent                second lead: state active",
        "finished: replied_to_email",
    ],
    "03_analysis.ipynb": [
        "3000 enrollments",
        "Tasks created next week for Ana (Warsaw)",
        "Tasks created next week for Ben (New York)",
        "most drop out at step",
        "holidays + 08:00-18:00 window  emails on Christmas, St Stephen's, New Year, "
        "Epiphany: [0, 0, 0, 0]",
    ],
}


def outputs(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [
        out
        for cell in notebook.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    ]


def test_there_are_three_stories() -> None:
    assert [p.name for p in NOTEBOOKS] == sorted(EXPECTED)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_and_shows_what_it_says(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    # run where JupyterLab would: in the notebooks folder
    NotebookClient(
        notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(FOLDER)}}
    ).execute()
    found = outputs(notebook)
    text = "\n".join(out.get("text", "") for out in found)
    assert not [out for out in found if out.get("output_type") == "error"]
    assert "Traceback" not in text
    for line in EXPECTED[path.name]:
        assert line in text, line
    pictures = [out for out in found if "image/png" in out.get("data", {})]
    assert pictures, f"{path.name} shows no picture"
