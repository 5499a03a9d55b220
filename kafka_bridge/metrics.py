"""Prometheus metrics of the command bus and the consumer loops (served at /metrics; see operations.views).

With `PROMETHEUS_MULTIPROC_DIR` set (devstack sets it), every process writes its samples there and the
web process's /metrics adds them all up.
"""

from prometheus_client import Counter, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)

COMMANDS_HANDLED = Counter(
    "bank_commands_handled", "Commands the handler answered, by command and outcome", ["command", "outcome"]
)
HANDLER_BATCH_SIZE = Histogram(
    "bank_handler_batch_size", "Commands per handler batch", buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500)
)
BATCH_PHASE_SECONDS = Histogram(
    "bank_batch_phase_seconds",
    "Time per transactional batch of a consumer in each phase: its work, produce, commit",
    ["consumer", "phase"],
    buckets=LATENCY_BUCKETS,
)
DEAD_LETTERS = Counter("bank_dead_letters", "Records copied to a dead-letter topic", ["topic"])
DEAD_LETTERS_SKIPPED = Counter(
    "bank_dead_letters_skipped", "Poison records whose copy the broker refused even without its value", ["topic"]
)
EVENTS_PROJECTED = Counter("bank_events_projected", "BalanceChanged events stored in the read model")
PROJECTION_DELAY_SECONDS = Histogram(
    "bank_projection_delay_seconds", "From an event's timestamp to its row in the read model", buckets=LATENCY_BUCKETS
)
ANSWER_SECONDS = Histogram(
    "bank_command_answer_seconds",
    "From sending a command to its answer, in the web process",
    ["command"],
    buckets=LATENCY_BUCKETS,
)
ANSWERS_TIMED_OUT = Counter(
    "bank_command_answers_timed_out", "Commands the bank did not answer within COMMAND_ANSWER_TIMEOUT", ["command"]
)
