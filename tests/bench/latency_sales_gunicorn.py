"""Gunicorn settings of the Sales instance of tests/bench/test_realtime_latency_bench.py (``-c
python:tests.bench.latency_sales_gunicorn``): it shares the test database with the ERP's integration, so it would see
the CUSTOMER mapping and note its own commits for near-real-time, as a Sales on a database of its own (no mapping)
never does. Its workers leave the near-real-time hook unconnected: Sales changes reach the ERP only through the
poll."""


def post_worker_init(worker):
    from p2c.records import records_written

    records_written.disconnect(dispatch_uid="integration.realtime")
