"""The fast path's UDP transport and its AIMD pacing, against agents on loopback sockets.

A scripted agent (a plain UDP socket in the test) answers what each test needs: a stale answer, a
spoofed one from another port, garbage, a hostile body with the right request id.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator

import pytest

from provisioning.errors import DeviceTimeout, MalformedResponse
from provisioning.snmp import ber
from provisioning.snmp.fast import FastSnmp
from provisioning.snmp.pacing import AimdWindow, Pacer
from tests.support.snmpd import Agent
from tests.support.waits import wait_until

SYS_NAME = (1, 3, 6, 1, 2, 1, 1, 5, 0)


def _response(request_id: int, community: bytes = b"public", value: bytes = b"agent") -> bytes:
    varbind = b"\x30" + bytes([len(ber.encode_oid(SYS_NAME)) + 4 + len(value)])
    varbind += b"\x06" + bytes([len(ber.encode_oid(SYS_NAME))]) + ber.encode_oid(SYS_NAME)
    varbind += b"\x04" + bytes([len(value)]) + value
    body = b"\x02\x04" + request_id.to_bytes(4, "big") + b"\x02\x01\x00\x02\x01\x00"
    body += b"\x30" + bytes([len(varbind)]) + varbind
    pdu = b"\xa2" + bytes([len(body)]) + body
    inner = b"\x02\x01\x01\x04" + bytes([len(community)]) + community + pdu
    return b"\x30" + bytes([len(inner)]) + inner


@pytest.fixture
def scripted() -> Iterator[tuple[socket.socket, socket.socket]]:
    """An agent socket and a second socket on another port (a spoofer)."""
    agent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    agent.bind(("127.0.0.1", 0))
    spoofer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    spoofer.bind(("127.0.0.1", 0))
    agent.setblocking(False)
    yield agent, spoofer
    agent.close()
    spoofer.close()


async def _serve_once(agent: socket.socket, reply: Callable[[int, tuple[str, int]], None]) -> None:
    loop = asyncio.get_running_loop()
    data, addr = await loop.sock_recvfrom(agent, 65535)
    request_id = int.from_bytes(data[data.index(b"\x02\x04", 8) + 2 :][:4], "big")
    reply(request_id, addr)


TEMPLATE = ber.RequestTemplate.build(1, b"public", ber.PDU_GET, [SYS_NAME])


async def test_only_the_answer_with_our_request_id_from_the_agent_address_counts(scripted) -> None:
    agent, spoofer = scripted
    port = agent.getsockname()[1]

    def reply(request_id: int, addr: tuple[str, int]) -> None:
        spoofer.sendto(_response(request_id, value=b"spoofed"), addr)  # right id, wrong source
        agent.sendto(_response(request_id + 1, value=b"stale"), addr)  # right source, wrong id
        agent.sendto(b"\x30\x82garbage", addr)
        agent.sendto(_response(request_id), addr)

    async with FastSnmp() as fast:
        server = asyncio.create_task(_serve_once(agent, reply))
        response = await fast.request("127.0.0.1", port, TEMPLATE, per_try=2, retries=0)
        await server
        assert response.varbinds == [(ber.encode_oid(SYS_NAME), ber.TAG_OCTET_STRING, b"agent")]
        await wait_until(lambda: fast.stray >= 3, 5, "3 stray datagrams counted", detail=lambda: fast.stray)
        assert fast.stray == 3


async def test_a_hostile_body_with_our_request_id_is_a_malformed_response(scripted) -> None:
    agent, _ = scripted
    port = agent.getsockname()[1]

    def reply(request_id: int, addr: tuple[str, int]) -> None:
        good = _response(request_id, value=b"a")
        agent.sendto(good[:-3] + b"\x47\x01\xff", addr)  # Unsigned32 that is negative

    async with FastSnmp() as fast:
        server = asyncio.create_task(_serve_once(agent, reply))
        with pytest.raises(MalformedResponse):
            await fast.request("127.0.0.1", port, TEMPLATE, per_try=2, retries=0)
        await server


async def test_a_retry_resends_the_same_request_id_and_a_late_first_answer_counts(scripted) -> None:
    agent, _ = scripted
    port = agent.getsockname()[1]
    seen: list[int] = []
    loop = asyncio.get_running_loop()

    async def slow_agent() -> None:
        for _ in range(2):
            data, addr = await loop.sock_recvfrom(agent, 65535)
            seen.append(int.from_bytes(data[data.index(b"\x02\x04", 8) + 2 :][:4], "big"))
        agent.sendto(_response(seen[0]), addr)  # answers the first try, after the retry went out

    async with FastSnmp() as fast:
        server = asyncio.create_task(slow_agent())
        response = await fast.request("127.0.0.1", port, TEMPLATE, per_try=0.3, retries=1)
        await server
    assert seen[0] == seen[1] and response.request_id == seen[0]


async def test_silence_is_a_timeout_and_shrinks_that_agents_window(scripted) -> None:
    agent, _ = scripted
    port = agent.getsockname()[1]
    pacer = Pacer(agent_initial=8)
    async with FastSnmp(pacer=pacer) as fast:
        with pytest.raises(DeviceTimeout, match="no answer"):
            await fast.request("127.0.0.1", port, TEMPLATE, per_try=0.1, retries=1)
    window = pacer.agents[("127.0.0.1", port)]
    assert window.limit == 4 and window.in_flight == 0
    assert pacer.total.cuts == 0  # an address that never answered says nothing about our own load


async def test_the_fast_path_reads_a_real_net_snmp_agent(snmpd: Agent) -> None:
    template = ber.RequestTemplate.build(1, b"public", ber.PDU_GET, [SYS_NAME, (1, 3, 6, 1, 2, 1, 1, 3, 0)])
    async with FastSnmp() as fast:
        response = await fast.request("127.0.0.1", snmpd.port, template, per_try=2, retries=0)
    (_, sys_name), (_, uptime) = [(raw, value) for raw, _, value in response.varbinds]
    assert sys_name == b"snmpd-under-test" and isinstance(uptime, int)


async def test_aimd_window_grows_one_per_window_and_halves_once_per_burst_of_timeouts() -> None:
    window = AimdWindow(4, maximum=100)
    for _ in range(4):
        await window.acquire()
    blocked = asyncio.create_task(window.acquire())
    await asyncio.sleep(0)
    assert not blocked.done()  # 4 in flight: the fifth waits
    sent = 0.0
    for _ in range(4):
        window.release(sent, timed_out=False)
    await blocked
    assert 4.9 < window.limit < 5.0  # +1/limit per answer: about one per window
    window.release(-1.0, timed_out=True)  # the first timeout of a burst halves the window
    assert window.limit == pytest.approx(4.95 / 2, rel=0.02) and window.cuts == 1
    await window.acquire()
    await window.acquire()
    window.release(-1.0, timed_out=True)  # sent before that cut: the same overload, no second cut
    window.release(-1.0, timed_out=True)
    assert window.cuts == 1 and window.limit >= 1


def _tlv(tag: int, body: bytes) -> bytes:
    length = bytes([len(body)]) if len(body) < 0x80 else b"\x82" + len(body).to_bytes(2, "big")
    return bytes([tag]) + length + body


async def test_a_get_the_agent_finds_too_big_is_split_and_stays_split(scripted) -> None:
    """An agent with a small packet limit answers tooBig above 2 varbinds (as Cisco's 1500-byte
    default does for big PDUs): the request is halved until it fits, and the plan keeps the split."""
    from pydantic import SecretStr

    from device_registry.credentials import SnmpCommunityCredential
    from provisioning.snmp.models import SnmpEndpoint
    from provisioning.snmp.table_reader import FastTableReader, TableRead

    agent, _ = scripted
    port = agent.getsockname()[1]
    loop = asyncio.get_running_loop()
    sizes: list[int] = []

    async def small_agent() -> None:
        while True:
            data, addr = await loop.sock_recvfrom(agent, 65535)
            request_id = int.from_bytes(data[data.index(b"\x02\x04", 8) + 2 :][:4], "big")
            names = []
            pos = data.index(b"\x30", data.index(b"\x02\x04", 8) + 12) + 2
            while pos < len(data):
                oid_len = data[pos + 3]
                names.append(data[pos + 4 : pos + 4 + oid_len])
                pos += 2 + data[pos + 1]
            sizes.append(len(names))
            status = 1 if len(names) > 2 else 0
            binds = b"".join(
                _tlv(0x30, _tlv(0x06, n) + _tlv(0x02, bytes([i + 1]))) for i, n in enumerate(names)
            )
            pdu = (
                _tlv(0x02, request_id.to_bytes(4, "big")) + bytes([2, 1, status, 2, 1, 0]) + _tlv(0x30, binds)
            )
            message = b"\x02\x01\x01" + _tlv(0x04, b"public") + _tlv(0xA2, pdu)
            agent.sendto(_tlv(0x30, message), addr)

    endpoint = SnmpEndpoint(
        "127.0.0.1", SnmpCommunityCredential(community=SecretStr("public")), port=port, timeout=2, retries=0
    )
    columns = {"a": (1, 3, 6, 1, 2, 1, 2, 2, 1, 8), "b": (1, 3, 6, 1, 2, 1, 2, 2, 1, 10)}
    server = asyncio.create_task(small_agent())
    try:
        async with FastSnmp() as fast:
            reader = FastTableReader(fast, columns, (), max_get_varbinds=8)
            walked = TableRead({"a": {1: 0, 2: 0, 3: 0}, "b": {1: 0, 2: 0, 3: 0}}, [], 1.0)
            plan = reader.plan(endpoint, walked, None)
            assert len(plan.gets) == 1
            got = await reader.get(endpoint, plan)
            assert got is not None and got.values == {"a": {1: 1, 2: 1, 3: 2}, "b": {1: 1, 2: 1, 3: 2}}
            assert [len(t.oids) for t in plan.gets] == [1, 2, 1, 2]  # 6 -> 3 + 3 -> (1 + 2) + (1 + 2)
            sizes.clear()
            again = await reader.get(endpoint, plan)
            assert again is not None and sizes == [1, 2, 1, 2]  # no tooBig round trips any more
    finally:
        server.cancel()
