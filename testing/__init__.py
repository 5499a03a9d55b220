"""The whole-system test harness, a pytest plugin of the root conftest: the application's processes on the test
stack (`live`), and real-broker helpers (`kafka`)."""
