"""The busy phone's SIP over a real UDP socket on 127.0.0.1: what it answers to an INVITE and the rest."""

from __future__ import annotations

import socket

import pytest

from ivrnav.livekit.busyphone import BusyPhone, parse_request

INVITE = ("INVITE sip:+15550101234@127.0.0.1 SIP/2.0\r\n"
          "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKaaa;rport, SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKbbb\r\n"
          "v: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bKccc\r\n"
          "f: <sip:+15550100999@127.0.0.1>;tag=from1\r\n"
          "To: <sip:+15550101234@127.0.0.1>\r\n"
          "i: call-1@127.0.0.1\r\n"
          "CSeq: 7 INVITE\r\n"
          "Content-Length: 0\r\n\r\n")


def exchange(phone: BusyPhone, message: str, replies: int) -> list[str]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(5)
        sock.sendto(message.encode(), ("127.0.0.1", phone.port))
        return [sock.recv(65535).decode() for _ in range(replies)]


@pytest.mark.parametrize("status", [486, 600, 603])
def test_invite_gets_trying_then_the_final_status(status: int) -> None:
    with BusyPhone(status) as phone:
        trying, final = exchange(phone, INVITE, 2)
        assert len(phone.invites) == 1
    assert trying.startswith("SIP/2.0 100 Trying\r\n")
    assert final.startswith(f"SIP/2.0 {status} ")
    head = final.split("\r\n")
    assert [h for h in head if h.startswith("Via:")] == [  # every Via, in order
        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKaaa;rport", "Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKbbb",
        "Via: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bKccc"]
    assert "From: <sip:+15550100999@127.0.0.1>;tag=from1" in head
    assert any(h.startswith("To: <sip:+15550101234@127.0.0.1>;tag=") for h in head)
    assert "To: <sip:+15550101234@127.0.0.1>" in trying.split("\r\n")  # no tag on 100
    assert "Call-ID: call-1@127.0.0.1" in head and "CSeq: 7 INVITE" in head


def test_cancel_gets_ok_and_garbage_gets_nothing() -> None:
    with BusyPhone() as phone:
        (ok,) = exchange(phone, INVITE.replace("INVITE sip", "CANCEL sip").replace("7 INVITE", "7 CANCEL"), 1)
        assert ok.startswith("SIP/2.0 200 OK\r\n") and "CSeq: 7 CANCEL" in ok
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            sock.settimeout(5)
            sock.sendto(b"\xff\xfe not sip", ("127.0.0.1", phone.port))
            sock.sendto(INVITE.replace("INVITE sip", "OPTIONS sip").replace("7 INVITE", "8 OPTIONS").encode(),
                        ("127.0.0.1", phone.port))
            first = sock.recv(65535).decode()  # one thread answers in order: the garbage got nothing
        assert first.startswith("SIP/2.0 200 OK\r\n") and "CSeq: 8 OPTIONS" in first
        assert phone.invites == []
    assert parse_request(b"SIP/2.0 200 OK\r\n\r\n") is None  # a response is not a request


def test_a_busy_phone_must_answer_with_a_failure() -> None:
    with pytest.raises(ValueError, match="4xx-6xx"):
        BusyPhone(200)
