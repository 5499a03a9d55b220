"""manage.py benchmark_command_handler: push transfers through a real broker and handler, report rate and latency.

Run it against a stack with no other command handler, e.g.:

    .venv/bin/python -m devstack exec --profile test -- .venv/bin/python manage.py benchmark_command_handler
"""

from __future__ import annotations

import os
import platform
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kafka_bridge import batches, clients
from kafka_bridge.tools.offsets import end_offsets, new_group_at_end, reader_from
from kafka_bridge.wire.codecs import encode_key, get_codec
from kafka_bridge.wire.messages import AccountCreationConfirmed, ConfirmAccountCreation, ConfirmMoneyTransfer, Message
from kafka_bridge.wire.topology import Topic

FEEDBACK = [Topic.ACCOUNT_CREATION_FEEDBACK.value, Topic.MONEY_TRANSFER_FEEDBACK.value]


class FeedbackClock:
    """Reads both feedback topics in a thread and notes when each command id's answer arrived."""

    def __init__(self) -> None:
        self.arrived: dict[uuid.UUID, float] = {}
        self.answers: dict[uuid.UUID, Message] = {}
        self._reader = reader_from([tp for topic in FEEDBACK for tp in end_offsets(topic)])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        codec = get_codec()
        while not self._stop.is_set():
            for record in batches.consume_available(self._reader, 1000, 0.05):
                now = time.perf_counter()
                message = codec.decode(record.topic(), record.value())
                self.arrived.setdefault(message.id, now)
                self.answers.setdefault(message.id, message)

    def wait_for(self, ids: set[uuid.UUID], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not ids <= self.arrived.keys():
            if time.monotonic() > deadline:
                missing = len(ids - self.arrived.keys())
                raise CommandError(f"{missing} of {len(ids)} commands got no answer within {timeout:.0f}s")
            time.sleep(0.01)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._reader.close()


class Command(BaseCommand):
    help = "Measure the command handler: transfers per second and per-command latency through a real broker."

    def add_arguments(self, parser):
        parser.add_argument("--commands", type=int, default=20_000, help="transfers to send (default 20000)")
        parser.add_argument("--accounts", type=int, default=200, help="accounts to open for them (default 200)")
        parser.add_argument(
            "--rate", type=float, default=0, help="commands per second to send at; 0 sends them all at once (default)"
        )
        parser.add_argument("--handlers", type=int, default=1, help="handler processes to start (default 1)")
        parser.add_argument("--batch-size", type=int, default=500, help="the handlers' --batch-size")
        parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for the answers")

    def handle(self, *args, commands, accounts, rate, handlers, batch_size, timeout, **options):
        group = new_group_at_end(Topic.COMMANDS.value, prefix="bench")
        started = [self._start_handler(group, n, batch_size) for n in range(handlers)]
        clock = FeedbackClock()
        producer = clients.producer()
        try:
            self.stdout.write(f"opening {accounts} accounts and funding them from cash...")
            owners = self._open_accounts(producer, clock, accounts, timeout)
            funding = [
                self._command(producer, "cash", iban, token, username, 10**9) for username, iban, token in owners
            ]
            clock.wait_for(set(funding), timeout)

            self.stdout.write(f"sending {commands} transfers" + (f" at {rate:.0f}/s" if rate else " at once") + "...")
            rng = random.Random(1)
            sent: dict[uuid.UUID, float] = {}
            first = time.perf_counter()
            for n in range(commands):
                if rate:
                    pause = first + n / rate - time.perf_counter()
                    if pause > 0:
                        time.sleep(pause)
                (username, source, token), (_, target, _) = rng.sample(owners, 2)
                sent[self._command(producer, source, target, token, username, rng.randint(1, 1000))] = (
                    time.perf_counter()
                )
                producer.poll(0)
            producer.flush(60)
            clock.wait_for(set(sent), timeout)
            self._report(sent, clock, first, handlers, batch_size, rate)
        finally:
            clock.close()
            for process in started:
                process.terminate()
                process.wait(60)

    def _start_handler(self, group: str, n: int, batch_size: int) -> subprocess.Popen:
        log = Path(settings.BASE_DIR) / ".stack" / f"benchmark-handler-{n}.log"
        log.parent.mkdir(exist_ok=True)
        with open(log, "wb") as output:
            return subprocess.Popen(
                [
                    sys.executable,
                    "manage.py",
                    "run_command_handler",
                    f"--group={group}",
                    f"--instance={group}-{n}",
                    f"--batch-size={batch_size}",
                ],
                cwd=settings.BASE_DIR,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=os.environ.copy(),
            )

    def _open_accounts(self, producer, clock, count, timeout) -> list[tuple[str, str, str]]:
        codec = get_codec()
        ids = {}
        for n in range(count):
            username = f"bench-{uuid.uuid4().hex[:10]}-{n}"
            command = ConfirmAccountCreation(id=uuid.uuid4(), username=username)
            producer.produce(
                Topic.COMMANDS.value, key=encode_key(username), value=codec.encode(Topic.COMMANDS, command)
            )
            ids[command.id] = username
        producer.flush(60)
        clock.wait_for(set(ids), timeout)
        opened = []
        for command_id, username in ids.items():
            answer = clock.answers[command_id]
            if isinstance(answer, AccountCreationConfirmed):
                opened.append((username, answer.iban, answer.token))
        if len(opened) < 2:
            raise CommandError("fewer than two accounts could be opened")
        return opened

    def _command(self, producer, source, target, token, username, amount) -> uuid.UUID:
        command = ConfirmMoneyTransfer(
            id=uuid.uuid4(),
            token=token,
            amount_cents=amount,
            from_account=source,
            to_account=target,
            description="benchmark",
        )
        while True:
            try:
                producer.produce(
                    Topic.COMMANDS.value, key=encode_key(username), value=get_codec().encode(Topic.COMMANDS, command)
                )
                return command.id
            except BufferError:
                producer.poll(0.05)

    def _report(self, sent, clock, first, handlers, batch_size, rate) -> None:
        latencies = sorted((clock.arrived[i] - t) * 1000 for i, t in sent.items())
        last = max(clock.arrived[i] for i in sent)
        failed = sum(1 for i in sent if getattr(clock.answers[i], "reason", None))
        elapsed = last - first

        def pct(p: float) -> float:
            return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))]

        self.stdout.write(
            self.style.SUCCESS(
                f"{len(sent)} transfers answered in {elapsed:.2f}s: {len(sent) / elapsed:,.0f} commands/s "
                f"({failed} refused)"
            )
        )
        self.stdout.write(
            f"latency ms: p50 {pct(50):.1f}  p90 {pct(90):.1f}  p99 {pct(99):.1f}  max {latencies[-1]:.1f}  "
            f"mean {statistics.fmean(latencies):.1f}"
        )
        self.stdout.write(
            f"setup: {handlers} handler(s), batch size {batch_size}, send rate {rate or 'unlimited'}, "
            f"linger.ms {settings.KAFKA_LINGER_MS}; {platform.machine()} with {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}"
        )
