"""What the resources share: the engine, its guard and how its clock runs."""

from dataclasses import dataclass

from engine.adapters.http.guard import EngineGuard
from engine.app.service import SequenceEngine


@dataclass(frozen=True, slots=True)
class HttpContext:
    engine: SequenceEngine
    guard: EngineGuard
    clock_mode: str  # "system" | "simulated"
