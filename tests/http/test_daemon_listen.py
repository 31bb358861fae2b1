"""Where the daemon listens: OSC's UDP and TCP share a port number, HTTP has its own, and a
daemon that cannot listen closes what it opened and says which address failed."""

from __future__ import annotations

import errno

import pytest

from bridge.frontends import daemon as daemon_module


def test_a_free_udp_port_taken_for_tcp_is_traded_for_another(make_daemon, monkeypatch):
    """With port 0 the TCP socket takes UDP's number, which another program's TCP socket may
    hold (it happened during a test run): the daemon tries another number."""
    real, tried = daemon_module.TcpServer, []

    def taken_once(service, host, port, max_packet):
        tried.append(port)
        if len(tried) == 1:
            raise OSError(errno.EADDRINUSE, "Address already in use")
        return real(service, host, port, max_packet)

    monkeypatch.setattr(daemon_module, "TcpServer", taken_once)
    daemon = make_daemon()
    assert len(tried) == 2
    assert daemon.tcp.sock.getsockname()[1] == daemon.udp.address[1] == tried[1]


def test_a_fixed_osc_port_in_use_is_one_clear_error(make_daemon, monkeypatch):
    def taken(service, host, port, max_packet):
        raise OSError(errno.EADDRINUSE, "Address already in use")

    monkeypatch.setattr(daemon_module, "TcpServer", taken)
    with pytest.raises(OSError, match=r"cannot listen on 127\.0\.0\.1:11999: Address already"):
        make_daemon(osc={"port": 11999})
