"""What the executor and the scheduler report while due work runs: the hook metrics
hang on (engine/adapters/metrics.py turns the reports into Prometheus series).

The app layer only calls these methods; the base class does nothing, so an engine
without metrics pays one no-op call per event. Labels are small fixed sets (kind
`email` | `task`, an outcome, a failure reason): never an account or enrollment id.
An observer must not raise and must be safe to call from several threads.
"""


class ExecutionObserver:
    def claimed(self, kind: str, *, latency: float | None, retry: bool, redelivery: bool) -> None:
        """A step was claimed. `latency` is the seconds from its planned instant to this
        claim while it is still `scheduled` (its first claim; a step a sending limit
        deferred is measured again when it comes back), None otherwise; `retry`: it
        comes back after a transient failure; `redelivery`: a lease recovery, the
        claim of a worker that vanished before recording (attempts still 0)."""

    def delivered(self, kind: str, outcome: str, reason: str | None = None) -> None:
        """A delivery ended: `sent` or `created` (a host's task), `failed` with its
        failure reason, `error` (transient: retried with backoff) or `skipped` (the
        lease was lost or the enrollment finished before the send)."""

    def dropped(self, kind: str) -> None:
        """An outcome was not recorded: the lease had been taken over."""

    def renewed(self, held: int, lost: int) -> None:
        """A heartbeat renewed `held` leases and found `lost` of them taken over."""


NO_OBSERVER = ExecutionObserver()
