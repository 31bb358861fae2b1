"""A bounded loopback load: many UDP clients at once against a small queue lose nothing."""

from __future__ import annotations

import threading
from collections import Counter

from osc_clients import UdpClient, wait_for

CLIENTS, REQUESTS = 8, 6


def test_concurrent_clients_each_get_exactly_one_final_reply_per_request(make_daemon):
    daemon = make_daemon(engine={"queue_size": 4})
    port = daemon.udp.address[1]
    clients = [UdpClient(port, timeout=30) for _ in range(CLIENTS)]
    replies: list[list] = [[] for _ in range(CLIENTS)]
    failures: list[BaseException] = []
    start = threading.Barrier(CLIENTS)

    def run(number: int) -> None:
        client, ids = clients[number], [f"c{number}-{n}" for n in range(REQUESTS)]
        try:
            start.wait()
            for request_id in ids:  # as fast as it can: no waiting for any reply
                client.send("/magenta/clip/file", request_id, 0, "folk_melody.mid")
                client.send("/magenta/tool/continue", request_id, "bars", 1, "seed", number)
            finals = 0
            while finals < REQUESTS:
                got = client.receive()
                replies[number] += got
                finals += got[-1][0] in ("/magenta/job/done", "/magenta/error")
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures

    # Once the engine is idle, anything still owed (or sent twice) is in the sockets: collect
    # it up to a health-check reply, which the daemon sends after them.
    def idle() -> bool:
        records = daemon.store.history(limit=1000)
        return daemon.engine.queued() == 0 and all(r.status == "done" for r in records)

    wait_for(idle, timeout=30)
    for number, client in enumerate(clients):
        client.send("/magenta/test", f"end-{number}")
        replies[number] += client.receive(("/magenta/test",))[:-1]
        client.close()

    done_replies = 0
    for number, got in enumerate(replies):
        ids = {f"c{number}-{n}" for n in range(REQUESTS)}
        assert {args[0] for _, args in got} <= ids, "a reply went to the wrong client"
        finals = [(address, args) for address, args in got if address.endswith(("done", "error"))]
        assert Counter(args[0] for _, args in finals) == Counter(ids), finals
        for address, args in finals:
            assert address == "/magenta/job/done" or args[1].startswith("busy"), args
        done_replies += sum(address == "/magenta/job/done" for address, _ in finals)
    assert done_replies > 0
    history = daemon.store.history(limit=1000)
    assert sum(record.status == "done" for record in history) == done_replies
    assert all(record.status == "done" for record in history)
