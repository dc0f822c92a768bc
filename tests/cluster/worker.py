"""One ivr worker process for the cluster tests: real SIP and RTP
(``ivr.transports.sip``), call records in the store a URL names, fake speech
and dialog parts (tests/transports/servers.py) so a call costs no model.
At start it closes the calls a dead worker of this host left open, like
``ivr serve``. ``python -m tests.cluster.worker PORT RECORDS_URL WORKER_ID``
prints ``ready`` once it listens."""
from __future__ import annotations

import asyncio
import os
import sys

from ivr.log import setup_logging
from ivr.session.records import open_records
from ivr.transports import IvrServer
from ivr.transports.sip import SipOptions, sip_transport
from tests.transports.servers import fake_services


async def main(port: int, records_url: str, worker: str) -> None:
    if level := os.environ.get("IVR_CLUSTER_LOG"):  # e.g. debug: every SIP message in and out on stderr
        setup_logging(level)
    services = fake_services(open_records(records_url, worker=worker))  # type: ignore[arg-type]
    recovered = await services.recover()
    server = IvrServer(services, drain_seconds=2.0, transports=[sip_transport(SipOptions())])
    await server.start({"sip": f"127.0.0.1:{port}"})
    print(f"ready {worker} closed={len(recovered.calls)}", flush=True)
    try:
        await server.serve_forever()
    finally:
        services.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
