"""The simulator counts each email sent under its actor and the actor's local date
(engine/runtime/simulation/runner.py, `_delivered`), reusing the last send's key only
for the same instant and actor."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from engine.app.ports import SENT, SendRequest, SendResult
from engine.domain.enums import FailureReason, ResourceType
from engine.runtime.simulation.runner import Simulation
from engine.runtime.simulation.scenario import load_scenario

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "scenarios"


def test_each_send_counts_under_its_own_actor_and_local_date() -> None:
    simulation = Simulation(load_scenario(EXAMPLES / "two_reps.yaml"), enrollments=1)
    simulation.any_replies = False  # no enrollment of these sends to reply to
    warsaw, new_york = simulation.actor_ids  # UTC+1 and UTC-5 in March
    late = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # Tuesday in Warsaw, Monday in NY

    def send(actor: int, now: datetime, result: SendResult = SENT) -> None:
        request = SendRequest("1:0:0", 1, 1, 0, actor, ResourceType.LEAD, 1, 1, False, now)
        simulation._delivered(request, now, result)

    send(warsaw, late)
    send(warsaw, late)  # the same instant and actor: the same key
    send(new_york, late)  # the same instant, another actor: its own date
    send(new_york, late + timedelta(hours=6))  # the same actor, its next local day
    send(new_york, datetime(2026, 3, 2, 23, 30, tzinfo=UTC))  # an equal instant, new object
    send(warsaw, late, SendResult(False, FailureReason.AUTH))  # not sent: not counted
    ana, ben = simulation.actor_names[warsaw], simulation.actor_names[new_york]
    assert simulation.tally.emails_sent == {
        (ana, date(2026, 3, 3)): 2,
        (ben, date(2026, 3, 2)): 2,
        (ben, date(2026, 3, 3)): 1,
    }
