from loadtest.resources import part_of, stack_processes


class FakeProcess:
    def __init__(self, pid, command, children=(), parents=()):
        self.pid, self._command, self._children, self._parents = pid, command, list(children), list(parents)

    def cmdline(self):
        return self._command.split()

    def children(self, recursive=False):
        return self._children

    def parents(self):
        return self._parents


def test_under_a_stack_only_that_stacks_processes_are_measured():
    kafka, web = FakeProcess(11, "java kafka.Kafka"), FakeProcess(12, "python -m daphne")
    supervisor = FakeProcess(10, "python -m devstack exec --profile loadtest --with-apps", children=[kafka, web])
    me = FakeProcess(13, "python manage.py loadtest compare", parents=[supervisor, FakeProcess(1, "init")])
    another_stacks_web = FakeProcess(20, "python -m daphne")

    found = stack_processes(me, everything=lambda: [kafka, web, another_stacks_web])

    assert [p.pid for p in found] == [10, 11, 12]


def test_the_stacks_supervisor_and_worker_are_parts_of_it():
    assert part_of(FakeProcess(10, "python -m devstack exec --profile loadtest --with-apps")) == "supervisor"
    assert part_of(FakeProcess(14, "python celery -A bankproject worker --pool=solo")) == "worker"
    assert part_of(FakeProcess(15, "java -cp /work/devstack/kafka kafka.Kafka")) == "kafka"


def test_outside_a_stack_every_process_on_the_machine_is_measured():
    kafka, web = FakeProcess(11, "java kafka.Kafka"), FakeProcess(12, "python -m daphne")
    me = FakeProcess(13, "python manage.py loadtest demo", parents=[FakeProcess(5, "bash"), FakeProcess(1, "init")])

    assert [p.pid for p in stack_processes(me, everything=lambda: [kafka, web])] == [11, 12]
